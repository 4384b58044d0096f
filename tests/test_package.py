"""The package's names load on first use, so that the command's entry point is quick
to load and can take SIGTERM and ^C in hand before the rest (see command.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import topicfeeds


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
