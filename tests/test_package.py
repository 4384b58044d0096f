"""The package's names load on first use, so that the command's entry point is quick
to load and can take SIGTERM and ^C in hand before the rest (see command.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import topicfeeds

ROOT = Path(__file__).resolve().parent.parent


def test_every_exported_name_is_the_object_of_its_module() -> None:
    assert sorted([*topicfeeds._HOMES, "__version__"]) == sorted(topicfeeds.__all__)
    for name in topicfeeds.__all__:
        value = getattr(topicfeeds, name)
        if name != "__version__":
            module = sys.modules[value.__module__]
            assert getattr(module, name) is value, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        topicfeeds.nothing  # noqa: B018


def test_the_entry_point_loads_without_the_rest_of_the_package() -> None:
    heavy = ("topicfeeds", "yaml", "feedgen", "sqlite3")
    code = f"import sys, topicfeeds.command; print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = ["topicfeeds", "topicfeeds.command", "topicfeeds.runtime", "topicfeeds.runtime.signals"]
    assert out.strip() == repr(loaded)


def test_the_pipeline_s_names_load_on_first_use_too() -> None:
    from topicfeeds import pipeline

    for name in pipeline.__all__:
        value = getattr(pipeline, name)
        assert getattr(sys.modules[value.__module__], name) is value, name


def test_a_run_with_nothing_to_read_loads_neither_text_repair_nor_explain(tmp_path: Path) -> None:
    """A rerun that finds nothing changed is cron's every few minutes: it loads what it
    uses. ftfy (a fifth of the start-up) is for text a record brings, and explain's
    stage is for explain."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    code = (
        "import sys\nfrom topicfeeds.cli import main\nstatus = main(['build', '-q'])\n"
        "print(status, sorted(m for m in sys.modules if m in {'ftfy', 'topicfeeds.pipeline.explanations'}))"
    )
    first = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert first.stdout.split()[0] == "0"
    again = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert again.stdout.strip() == "0 []"
