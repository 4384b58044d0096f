"""Whether a run may remove what the feeds hold: a records folder that is suddenly
empty is far more often a share that did not mount than news withdrawn. Pure."""

from __future__ import annotations

from .errors import printable


def removal_guard(known: int, gone: int, share: float, minimum: int) -> str | None:
    """Why a run must not drop `gone` of the `known` records the feeds were built
    from, or None when it may: it must not when more than `share` of them are gone
    and at least `minimum` (so a small folder can still be emptied)."""
    if gone < max(minimum, 1) or gone <= share * known:
        return None
    return f"{gone} of the {known} records the feeds were built from are gone (more than {share:.0%})"


def subfolder_note(files: int, subfolders: list[str]) -> str | None:
    """What to say of a records folder with no record files but with subfolders,
    whose records are never read; None otherwise."""
    if files or not subfolders:
        return None
    names = ", ".join(printable(n) for n in sorted(subfolders)[:5]) + (", ..." if len(subfolders) > 5 else "")
    plural = "s" if len(subfolders) > 1 else ""
    return (
        f"no record files, but {len(subfolders)} subfolder{plural} ({names}); "
        "records in subfolders are not read"
    )
