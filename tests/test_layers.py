"""The layering of the package, as the import-linter contracts in pyproject.toml state
it: core imports nothing of the package but the settings and the errors; the stages
below the run (records, formats, store, sources, destinations) know nothing of the run,
the watch, the server or the CLI; only the console entry imports the CLI; and config
knows nothing of the run, the store, the sources or the destinations."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import topicfeeds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - import-linter brings tomli to 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def contracts() -> list[dict[str, Any]]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found: list[dict[str, Any]] = tomllib.loads(text)["tool"]["importlinter"]["contracts"]
    return found


def test_every_contract_holds() -> None:
    program = Path(sys.executable).with_name("lint-imports")
    command = str(program) if program.exists() else shutil.which("lint-imports")
    assert command, "lint-imports is not installed: pip install -e '.[test]'"
    # No cache: nothing written beside the code, and two runs at once never share one.
    result = subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert f"Contracts: {len(contracts())} kept, 0 broken." in result.stdout


def test_core_is_kept_from_every_other_part_of_the_package() -> None:
    """The core contract names what core may not import one by one (import-linter has no
    "all but"): a part added to the package is named there too, or this fails."""
    core = next(c for c in contracts() if c["source_modules"] == ["topicfeeds.core"])
    parts = {f"topicfeeds.{m.name}" for m in pkgutil.iter_modules(topicfeeds.__path__)}
    allowed = {"topicfeeds.core", "topicfeeds.config", "topicfeeds.defaults", "topicfeeds.errors"}
    assert parts - allowed == set(core["forbidden_modules"])
