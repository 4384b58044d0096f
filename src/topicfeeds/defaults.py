"""Defaults the configuration names and the stages below it use, one definition each.

A module of plain values below every other: config reads them as its defaults without
importing the stages that apply them (the record sources, the reader).
"""

# Which file names in the records folder are records (sources/names.py matches them).
DEFAULT_PATTERNS = ("*.txt", "*.md")

# The largest record file read; a larger one is rejected unread (records/reader.py).
DEFAULT_MAX_BYTES = 1024 * 1024
