"""The guide's report is the command's real output on the example log it ships."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "subscribers.md"
COMMAND = "$ topicfeeds subscribers docs/examples/access.log\n"


def run(*args: str) -> str:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    command = [sys.executable, "-m", "topicfeeds", "subscribers", *args, "docs/examples/access.log"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, timeout=60, check=True, env=env)
    return done.stdout.decode("utf-8")


def test_the_guide_shows_the_table_the_command_prints() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    shown = text[text.index(COMMAND) + len(COMMAND) :].split("```", 1)[0]
    assert shown == run()


def test_the_guides_json_is_the_commands_abridged() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    [block] = re.findall(r"```json\n(.*?)```", text, re.DOTALL)
    shown = json.loads(block)
    real = json.loads(run("--json"))
    topic = real["topics"][0]
    topic["days"] = topic["days"][-1:]
    topic["feeds"] = [{**topic["feeds"][0], "days": topic["feeds"][0]["days"][-1:]}]
    real["topics"] = [topic]
    assert shown == real
