"""Where a record file's YAML is: between a first line of `---` and the next line of
`---` or `...`."""

from __future__ import annotations

import re

# Front matter: a first line of `---`, then YAML up to a line of `---` or `...`.
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"\n(?:---|\.\.\.)[ \t]*\r?(?:\n|\Z)")


def front_matter(text: str) -> str | None:
    """The YAML between the opening and closing lines, or None when there is none."""
    opening = _OPENING.match(text)
    if opening is None:
        return None
    # From the opening line's own newline, so that an empty front matter is found too.
    closing = _CLOSING.search(text, opening.end() - 1)
    return None if closing is None else text[opening.end() : closing.start() + 1]
