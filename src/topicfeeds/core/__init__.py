"""What chooses a feed's entries, pure: no I/O, no clock, no database."""
