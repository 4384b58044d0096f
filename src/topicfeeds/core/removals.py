"""Which published files a run removes: a decision over what the state store says this
program published and what the run makes now, kept apart from the removing itself.

Only a file this program published, and still as it left it, is ever removed: an
object or file someone else put beside the feeds is never looked at, and one someone
else replaced is no longer ours. Nothing is removed unless asked: `retire` asks for a
retired topic's files, `delete` (or `build --delete`) for every file no longer made.
Past `max_deletes` removals in one run, none is made (as `hugo deploy --maxDeletes`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass

Stamp = tuple[int, int]  # an output file's stamp, as destinations give it


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    """What a run does with the files it published and no longer makes."""

    remove: tuple[str, ...]  # to remove now, by name
    kept: tuple[str, ...]  # left in place: not asked for, or held back by the cap
    forget: tuple[str, ...]  # gone, or changed by someone else: no longer ours to remove
    refused: str | None = None  # why nothing is removed although removals were asked for


def retired_file(name: str, retired: Collection[str], suffixes: Collection[str]) -> bool:
    """Whether `name` is a feed or page of a retired topic, a topic's files being named
    by its slug and one of `suffixes` (every format's, as the formats give them)."""
    stem, suffix = posixpath.splitext(name)
    return stem in retired and suffix in suffixes


def plan_removals(
    published: Mapping[str, Stamp],
    present: Mapping[str, Stamp | None],
    made: Collection[str],
    retired: Collection[str],
    *,
    delete: bool,
    max_deletes: int,
    suffixes: Collection[str],
) -> RemovalPlan:
    """Decide the fate of every file in `published` (name: stamp as last written) that
    is not in `made`; `present` gives those files' stamps as they are now (None: gone).
    `retired` holds the slugs of retired topics, `suffixes` every format's file suffix."""
    remove: list[str] = []
    kept: list[str] = []
    forget: list[str] = []
    for name in sorted(published.keys() - set(made)):
        if present.get(name) != published[name]:
            forget.append(name)
        elif delete or retired_file(name, retired, suffixes):
            remove.append(name)
        else:
            kept.append(name)
    if len(remove) > max_deletes:
        why = f"{len(remove)} files to remove, more than max_deletes ({max_deletes}); none was removed"
        return RemovalPlan((), tuple(sorted((*remove, *kept))), tuple(forget), why)
    return RemovalPlan(tuple(remove), tuple(kept), tuple(forget))
