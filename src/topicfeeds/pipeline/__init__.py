"""The run: records in, feeds out, a stage at a time."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# Loaded when first used (PEP 562): a build never loads what `explain` needs, nor the
# other way round.
if TYPE_CHECKING:
    from .explanations import explain, explain_each
    from .run import BuildReport, build

_HOMES = {"BuildReport": "run", "build": "run", "explain": "explanations", "explain_each": "explanations"}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["BuildReport", "build", "explain", "explain_each"]
