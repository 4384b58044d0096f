"""What every stage of one run is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..config import Config
from ..sources import RecordSource
from ..store import Store
from .report import Progress, quiet


@dataclass(frozen=True, slots=True)
class Context:
    """One run's configuration, records source and state, the time it runs as, and how
    it may work."""

    config: Config
    source: RecordSource
    store: Store
    now: datetime  # the reference time for max_age_days and for noting when an entry changed
    jobs: int  # processes that may parse records and make files
    progress: Progress = quiet
