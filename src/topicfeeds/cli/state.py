"""The `state` command (`state copy`): its arguments and its run. The package's `main`
turns its errors into messages and exit statuses as for every command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config, load_config
from ..errors import TopicfeedsError, printable


def add_state_parser(sub: Any, add_config: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add `state` and its `copy` to the commands `sub` (argparse's subparsers) holds."""
    st = sub.add_parser(
        "state",
        help="move the state between a SQLite file and PostgreSQL",
        description="Work on the state itself. `state copy` copies a state, every table and every row, "
        "from a SQLite file to PostgreSQL or back: the records as parsed, the entries' history, the "
        "archives and the pings waiting for a hub, so that the first run on the new state is an "
        "incremental one. Both states are held under their run's lock meanwhile.",
    )
    actions = st.add_subparsers(dest="action", required=True, metavar="ACTION", help="copy: see below")
    c = actions.add_parser(
        "copy",
        help="copy a state to another place (a SQLite file, or postgresql://…)",
        description="Copy the state at FROM (default: the state config.yaml names) to TO. Each is a "
        "SQLite file or a postgresql:// URL without a password (libpq's PGPASSWORD, ~/.pgpass and "
        "PG* variables give the rest); TO is made if need be. A TO that holds a state already is "
        "refused unless --replace. Exit status: 0 copied; 2 nothing to copy, TO holds a state, or a "
        "usage error; 3 a run holds either's lock (--wait); 4 either state cannot be used.",
    )
    add_config(c)
    c.add_argument("source", nargs="?", metavar="FROM", help="where the state is (default: config.yaml's)")
    c.add_argument("target", metavar="TO", help="where it goes")
    c.add_argument("--replace", action="store_true", help="copy over a state TO holds (it is lost)")
    c.add_argument(
        "--schema",
        metavar="NAME",
        help="the schema of a PostgreSQL end (default: config.yaml's state_schema, else topicfeeds)",
    )
    c.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for a run that holds either's lock (default: exit at once with status 3)",
    )


def run_state(args: argparse.Namespace) -> int:
    """`state copy`: copy the state, say what was copied; 0, or a TopicfeedsError for the package's main."""
    from ..config import DEFAULT_STATE_SCHEMA, SCHEMA_NAME, DatabaseState, database_problem, is_database
    from ..store.copy import copy_state  # only this command copies a state
    from ..store.opening import Place, place_of

    config: Config | None = None
    if args.source is None or args.schema is None:
        path = Path(args.config)
        if args.source is None or path.exists():  # the default FROM, or the default schema
            config = load_config(path)
    schema = args.schema or (config.state_db.schema if config and config.state_db else DEFAULT_STATE_SCHEMA)
    if not SCHEMA_NAME.fullmatch(schema):
        raise TopicfeedsError(f"--schema: expected a lowercase name of letters, digits and _, got {schema!r}")

    def place(text: str) -> Place:
        if not is_database(text):
            return Path(text).resolve()
        why = database_problem(text)
        if why is not None:
            raise TopicfeedsError(f"{printable(text.split('@')[-1])}: {why}")
        return DatabaseState(text, schema)

    source = place(args.source) if args.source is not None else place_of(config) if config else None
    target = place(args.target)
    copied = copy_state(source, target, replace=args.replace, wait=args.wait)
    counts = ", ".join(f"{copied.count(t)} {words}" for t, words in _COPIED)
    print(f"topicfeeds: copied the state from {source} to {target}: {counts}")
    return 0  # EXIT_OK


# What `state copy` says it moved: the tables a person cares about, in their words.
_COPIED = (
    ("files", "record files"),
    ("entries", "published entries"),
    ("archive", "archived entries"),
    ("archive_pages", "archive pages"),
    ("pings", "pings waiting"),
)
