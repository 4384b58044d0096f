"""The run: records in, feeds out, a stage at a time."""

from .run import BuildReport, build, explain, explain_each

__all__ = ["BuildReport", "build", "explain", "explain_each"]
