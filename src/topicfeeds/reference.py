"""The reference pages made from the code, so that they cannot drift from it:
`python -m topicfeeds.reference docs/reference` writes them, and tests/test_docs.py
fails when one differs from what the code gives.

Each page is a function of the code alone (never of the terminal's width or the
Python version's argparse wording), so the same code gives the same bytes anywhere.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .cli import EXIT_STATUSES, make_parser

MADE_BY = "python -m topicfeeds.reference docs/reference"
USAGE_WIDTH = 88  # a usage line wraps here, as a terminal of this width would show it


def cli_page() -> str:
    """docs/reference/cli.md: every command and option, from the parser in cli.py."""
    parser = make_parser()
    commands = _commands(parser)
    lines = [
        "# Command reference",
        "",
        _notice("the parser in `src/topicfeeds/cli/parser.py`"),
        "",
        "`topicfeeds COMMAND [OPTION ...]`, or `python -m topicfeeds COMMAND [OPTION ...]`.",
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| [`{name}`](#{name}) | {_cell(helped)} |" for name, helped, _ in commands),
        "",
        "Before the command: " + ", ".join(_flags(a) for a in _options(parser)) + ". After it, `-h` or "
        "`--help` shows the command's own help.",
        "Every command ends with a status from [exit-status.md](exit-status.md).",
    ]
    for name, helped, sub in commands:
        lines += _command_section("##", f"topicfeeds {name}", helped, sub)
        # A command of commands (`state copy`): each of its own, one heading down.
        if any(isinstance(a, argparse._SubParsersAction) for a in sub._actions):
            for action, action_help, action_sub in _commands(sub):
                lines += _command_section("###", f"topicfeeds {name} {action}", action_help, action_sub)
    return "\n".join(lines) + "\n"


def _command_section(heading: str, prog: str, helped: str, sub: argparse.ArgumentParser) -> list[str]:
    title = prog.removeprefix("topicfeeds ")
    lines = ["", f"{heading} {title}", "", "```", _usage(prog, sub), "```", ""]
    lines += [_sentence(sub.description or helped), ""]
    arguments = [a for a in sub._actions if not isinstance(a, argparse._HelpAction)]
    lines += ["| argument | meaning |", "|---|---|"]
    return lines + [f"| {_flags(a)} | {_cell(_help(a))} |" for a in arguments]


def exit_status_page() -> str:
    """docs/reference/exit-status.md: the table of exit statuses in cli/status.py."""
    lines = [
        "# Exit status",
        "",
        _notice("`EXIT_STATUSES` in `src/topicfeeds/cli/status.py`"),
        "",
        "Every command ends with one of these; `topicfeeds --help` lists them too. What to alert",
        "on when running from cron: [guide/cron.md](../guide/cron.md#exit-statuses-to-alert-on).",
        "",
        "| status | meaning |",
        "|---|---|",
        *(f"| {code} | {_cell(_sentence(meaning))} |" for code, meaning in EXIT_STATUSES),
    ]
    return "\n".join(lines) + "\n"


# The pages this module makes, by file name in docs/reference/.
def config_page() -> str:
    """docs/reference/config.md: every key of config.yaml, from the table of keys."""
    from .config.reference import reference_markdown

    return reference_markdown()


PAGES: dict[str, Callable[[], str]] = {
    "cli.md": cli_page,
    "config.md": config_page,
    "exit-status.md": exit_status_page,
}


def pages() -> dict[str, str]:
    """Every page this module makes: its file name in docs/reference/ and its text."""
    return {name: make() for name, make in PAGES.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Write the pages into the folder named (0), or with --check say which differ (1)."""
    parser = argparse.ArgumentParser(prog="python -m topicfeeds.reference", description=__doc__)
    parser.add_argument("folder", type=Path, help="where the pages go: docs/reference")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a page differs")
    args = parser.parse_args(argv)
    stale = []
    for name, text in pages().items():
        path = args.folder / name
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
        print(f"{'differs' if args.check else 'wrote'}: {path}")
    return 1 if args.check and stale else 0


def _commands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """Each command's name, its one-line help and its parser, in the parser's order."""
    [group] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help or "" for choice in group._choices_actions}
    return [(name, helps[name], sub) for name, sub in group.choices.items()]


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if a.option_strings]


def _flags(action: argparse.Action) -> str:
    """`-c FILE`, `--config FILE`; a positional argument by its name."""
    value = _value(action)
    if not action.option_strings:
        return f"`{value}`"
    return ", ".join(f"`{flag}{' ' + value if value else ''}`" for flag in action.option_strings)


def _value(action: argparse.Action) -> str:
    """What follows an option on the command line ('' for a switch)."""
    if action.nargs == 0:
        return ""
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def _usage(prog: str, parser: argparse.ArgumentParser) -> str:
    """The command's usage, wrapped at USAGE_WIDTH under the first argument."""
    arguments = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    # Options first, then the positional arguments, as argparse's own usage has them.
    parts = [_option_usage(a) for a in arguments if a.option_strings]
    for action in (a for a in arguments if not a.option_strings):
        value = _value(action)
        optional = {"+": f"{value} [{value} ...]", "*": f"[{value} ...]", "?": f"[{value}]"}
        parts.append(optional.get(str(action.nargs), value))
    lines = [prog]
    for part in parts:  # an option and its value stay on one line
        if len(lines[-1]) + 1 + len(part) > USAGE_WIDTH:
            lines.append(" " * len(prog))
        lines[-1] += " " + part
    return "\n".join(lines)


def _option_usage(action: argparse.Action) -> str:
    value = _value(action)
    return f"[{action.option_strings[0]} {value}]" if value else f"[{action.option_strings[0]}]"


def _help(action: argparse.Action) -> str:
    """An argument's help as `--help` shows it (`%%` is a percent sign there)."""
    text = (action.help or "") % {"default": action.default, "prog": "topicfeeds"}
    return _sentence(text)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _cell(text: str) -> str:
    """Text for a Markdown table's cell."""
    return text.replace("|", "\\|")


def _notice(source: str) -> str:
    return f"<!-- Made from {source} by `{MADE_BY}`: change the code, then run that; do not edit here. -->"


if __name__ == "__main__":
    sys.exit(main())
