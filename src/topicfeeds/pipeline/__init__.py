"""The run: records in, feeds out, a stage at a time."""

from .explanations import explain, explain_each
from .run import BuildReport, build

__all__ = ["BuildReport", "build", "explain", "explain_each"]
