"""`python -m topicfeeds`: the same as the `topicfeeds` command."""

from .cli import main

raise SystemExit(main())
