"""The process a run lives in: signals, parse workers, the run lock."""
