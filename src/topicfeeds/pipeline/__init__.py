"""The run: records in, feeds out, a stage at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import lazy_names

# Loaded when first used (PEP 562): a build never loads what `explain` needs, nor the
# other way round.
if TYPE_CHECKING:
    from .explanations import explain, explain_each
    from .run import BuildReport, build

_HOMES = {"BuildReport": "run", "build": "run", "explain": "explanations", "explain_each": "explanations"}
__getattr__ = lazy_names(__name__, _HOMES, globals())

__all__ = ["BuildReport", "build", "explain", "explain_each"]
