"""`python -m topicfeeds`: the same as the `topicfeeds` command."""

from .command import main

raise SystemExit(main())
