"""Whether a run may remove what the feeds hold: a records folder that is suddenly
empty is far more often a share that did not mount than news withdrawn. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import printable


def removal_guard(
    known: int, gone: int, share: float, minimum: int, settled: int | None = None
) -> str | None:
    """Why a run must not drop `gone` of the `known` records the feeds were built
    from, or None when it may: it must not when more than `share` of them are gone
    and at least `minimum` (so a small folder can still be emptied).

    `settled`, when given, is how many records the feeds held at a settled moment (a
    watch's run some minutes back, see `settled_runs`). The run must then also leave
    the feeds short of that many by more than `share` (and `minimum`): records added
    since and taken back again are their producer's to withdraw, while a vanished
    folder takes the settled ones with it."""
    if gone < max(minimum, 1) or gone <= share * known:
        return None
    if settled is not None:
        short = settled - (known - gone)  # how far below the settled count the run leaves the feeds
        if short < max(minimum, 1) or short <= share * settled:
            return None
    return f"{gone} of the {known} records the feeds were built from are gone (more than {share:.0%})"


def settled_runs(
    runs: Sequence[tuple[float, int]], now: float, window: float
) -> tuple[tuple[float, int], ...]:
    """A watch's runs, (when, good records after it) oldest first, less those that came
    before the last one at least `window` seconds before `now`: the first left is the
    settled run, whose count `removal_guard` takes as `settled` (the first run while
    the watch is younger than `window`)."""
    first = 0
    for at, (when, _) in enumerate(runs):
        if when <= now - window:
            first = at
    return tuple(runs[first:])


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
