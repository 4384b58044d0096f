"""core/ decides and does nothing else: no I/O, no clock, no sqlite, and nothing of the
package but core itself, the settings (config), plain defaults (defaults) and printable
errors (errors)."""

from __future__ import annotations

import ast
from pathlib import Path

import topicfeeds.core

CORE = Path(topicfeeds.core.__file__).parent
PACKAGE_ALLOWED = {"config", "defaults", "errors"}  # settings values, plain defaults, messages
# Modules that reach files, processes, the network, the clock or chance.
FORBIDDEN = {
    "asyncio", "boto3", "botocore", "glob", "http", "io", "os", "pathlib", "random", "secrets", "shutil",
    "socket", "sqlite3", "subprocess", "sys", "tempfile", "threading", "time", "urllib",
}  # fmt: skip
CLOCK = {"now", "today", "utcnow", "monotonic", "perf_counter"}


def test_core_modules_import_nothing_that_does_io_and_nothing_of_the_package_outside_core() -> None:
    modules = sorted(CORE.glob("*.py"))
    assert len(modules) > 5
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level == 0:
                    top = (node.module or "").split(".")[0]
                    assert top != "topicfeeds", f"{path.name}: imports {node.module} absolutely"
                    assert top not in FORBIDDEN, f"{path.name}: imports {node.module}"
                elif node.level == 2:
                    top = (node.module or "").split(".")[0]
                    assert top in PACKAGE_ALLOWED, f"{path.name}: imports ..{node.module}, outside core"
                else:
                    assert node.level == 1, f"{path.name}: imports beyond the package"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top not in FORBIDDEN and top != "topicfeeds", f"{path.name}: imports {alias.name}"
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK, f"{path.name}:{node.lineno}: reads the clock"
