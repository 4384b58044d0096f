"""The stored records as the choosing stage reads them: light records (without images
and related articles: all the shipped rules look at) decoded once a run and shared by
the topics, every copy of an article, whole records on demand, and shortlists filled
in one pass over the records. A topic whose rules read a field a light record lacks
(see core/rules.py) is given its records whole wherever its rules run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from ..config import MATCH_ALL, Topic
from ..core.model import Record
from ..core.rules import needs_whole
from ..core.select import Selection, content_key, select
from ..core.shortlist import Shortlist, shortlisted
from ..records import codec
from ..records.yamlload import CACHE_LIMIT
from ..store import Store

# Whole records are read from the store this many at a time: a query per batch rather
# than per record, and no more of them held at once.
WHOLE_BATCH = 500


class Offers:
    """Which of some topics' shortlists each record goes to, by its topics."""

    def __init__(self, topics: Sequence[Topic], lists: dict[str, Shortlist]) -> None:
        self.every = [lists[t.slug] for t in topics if MATCH_ALL in t.match]
        self.by_name: dict[str, list[Shortlist]] = {}
        for topic in topics:
            if MATCH_ALL not in topic.match:
                for name in topic.match:
                    self.by_name.setdefault(name, []).append(lists[topic.slug])
        # The shortlists a record goes to, by its topics as written: records share a
        # few combinations of them, and the cache is emptied when full, so memory stays
        # flat however many records.
        self.routes: dict[str | tuple[str, ...], list[Shortlist]] = {}

    def offer(self, candidate: codec.LightCandidate | WholeCandidate) -> None:
        """Offer one record to each shortlist of a topic it matches."""
        names = candidate.topics
        known = names[0] if len(names) == 1 else tuple(names)
        route = self.routes.get(known)
        if route is None:
            found = [*self.every]
            for name in names:
                found += self.by_name.get(name.casefold(), ())
            # A topic matching two of a record's topics is offered it once.
            route = list(dict.fromkeys(found)) if len(found) > 1 else found
            if len(self.routes) >= CACHE_LIMIT:
                self.routes.clear()
            self.routes[known] = route
        for shortlist in route:
            shortlist.consider(candidate)


class WholeCandidate:
    """A record as stored (a `selector.Candidate`), ranked by its light part and made
    whole, with its images and related articles, only when asked for."""

    __slots__ = ("_extra", "_light", "_record", "heat", "id", "published_micros", "quality", "topics")

    def __init__(self, light: codec.LightCandidate, extra: bytes) -> None:
        self._light = light
        self._extra = extra
        self._record: Record | None = None
        self.id = light.id
        self.published_micros = light.published_micros
        self.quality = light.quality
        self.heat = light.heat
        self.topics = light.topics

    def record(self) -> Record:
        """The whole record."""
        if self._record is None:
            self._record = codec.with_extra(self._light.record(), self._extra)
        return self._record


def split(
    topics: Sequence[Topic], needs: Callable[[Topic], bool] = needs_whole
) -> tuple[list[Topic], list[Topic]]:
    """`topics` whose rules read light records, and those whose rules need them whole."""
    light: list[Topic] = []
    whole: list[Topic] = []
    for topic in topics:
        (whole if needs(topic) else light).append(topic)
    return light, whole


class RecordView:
    """The records one run chooses from, read from its store."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store = store
        self.now = now
        self._light: dict[str, Record] = {}  # file name: its light record (see _decoded)
        self._copies: dict[str, list[Record]] = {}  # article id: its stored copies (see copies)
        self._whole: dict[str, bool] = {}  # topic slug: whether its rules need whole records

    def needs_whole(self, topic: Topic) -> bool:
        """Whether `topic`'s rules read a field a light record lacks: asked of the rules
        once a run for each topic, which asks several times."""
        found = self._whole.get(topic.slug)
        if found is None:
            found = self._whole[topic.slug] = needs_whole(topic)
        return found

    def _decoded(self, name: str, light: codec.Light) -> Record:
        """The light record of file `name`, decoded once a run and shared by the topics."""
        record = self._light.get(name)
        if record is None:
            record = self._light[name] = codec.decode_light(light)
        return record

    def light_records(self, topic: Topic) -> list[Record]:
        """The records `topic` may select, without their images and related articles."""
        match = None if MATCH_ALL in topic.match else topic.match
        return [self._decoded(name, light) for name, light in self.store.light_records(match)]

    def records(self, topic: Topic) -> list[Record]:
        """The records `topic` may select, as its rules need them."""
        if not self.needs_whole(topic):
            return self.light_records(topic)
        return list(self._whole_records(topic))

    def _whole_records(self, topic: Topic) -> Iterator[Record]:
        """The records `topic` may select, whole, in the store's order of names."""
        match = None if MATCH_ALL in topic.match else topic.match
        names = [name for name, _ in self.store.light_records(match)]
        for start in range(0, len(names), WHOLE_BATCH):
            part = names[start : start + WHOLE_BATCH]
            whole = self.store.full_records(part)
            yield from (whole[name] for name in part)

    def copies(self, ids: Iterable[str]) -> list[Record]:
        """Every stored copy of the articles `ids`, light. Asked of the store once a run
        for each article (topics share most of theirs: the changed ones), and in one
        query for all the articles not asked for yet."""
        copies = self._copies
        wanted = sorted(set(ids))
        missing = [i for i in wanted if i not in copies]
        for article in missing:
            copies[article] = []
        for article, light in self.store.copies_of(missing):
            copies[article].append(self._decoded(light.key, light))
        return [record for article in wanted for record in copies[article]]

    def copies_for(self, topic: Topic, ids: Iterable[str]) -> list[Record]:
        """Every stored copy of the articles `ids`, as `topic`'s rules need them."""
        found = self.copies(ids)
        return self.whole(found) if self.needs_whole(topic) else found

    def content_key(self, record: Record) -> str:
        """`selector.content_key` of a light record: of its whole record."""
        # Light records lack what tells tied copies apart: ties read the whole record.
        return content_key(self.store.full_records([record.key])[record.key])

    def whole(self, records: Sequence[Record]) -> list[Record]:
        """`records` whole, in the same order."""
        found = self.store.full_records(r.key for r in records)
        return [found[r.key] for r in records]

    def select(self, topic: Topic, records: Sequence[Record] | None = None,
               extra: Sequence[Record] = ()) -> Selection:  # fmt: skip
        """`topic`'s selection from `records` (by default all it may select; given as
        its rules need them) and `extra` (whole records not in the store)."""
        if self.needs_whole(topic):
            given = self.records(topic) if records is None else records
            if extra:
                keys = {r.key for r in extra}
                given = [*(r for r in given if r.key not in keys), *extra]
            return select(given, topic, self.now)
        light = self.light_records(topic) if records is None else records
        if extra:
            keys = {r.key for r in extra}
            light = [*(r for r in light if r.key not in keys), *extra]
            whole = {r.key: r for r in extra}
            fetch = self.whole
            return select(
                light, topic, self.now,
                content=lambda r: content_key(whole[r.key]) if r.key in whole else self.content_key(r),
                whole=lambda rs: [whole.get(r.key) or fetch([r])[0] for r in rs],
            )  # fmt: skip
        return select(light, topic, self.now, content=self.content_key, whole=self.whole)

    def shortlists(self, topics: Sequence[Topic], streamed: dict[str, Shortlist]) -> dict[str, Shortlist]:
        """A shortlist for each of `topics`, filled in one pass over the records they
        can match: each record is decoded once, and none is held beyond the shortlists,
        so memory does not grow with the records folder. Those `streamed` (filled as the
        run stored every record, see refresh.py) are taken, the same dict, when they are
        for the same topics: the caller takes each from it as it chooses its topic, and
        what it held goes with it."""
        if [s.topic for s in streamed.values()] == list(topics):
            return streamed
        lists = {t.slug: Shortlist(t, self.now) for t in topics}
        light, whole = split(topics, self.needs_whole)
        if light:
            offers = Offers(light, lists)
            # Past ten topics, one pass over every record costs less than their own.
            match = None if offers.every or len(light) > 10 else sorted(offers.by_name)
            for _, stored in self.store.light_records(match):
                offers.offer(codec.LightCandidate(stored))
        for topic in whole:
            shortlist = lists[topic.slug]
            for record in self._whole_records(topic):
                shortlist.offer(record)
        return lists

    def choose_all(self, topic: Topic, shortlist: Shortlist) -> tuple[Selection, Sequence[Record]]:
        """`topic`'s selection from all its records, and the records its due time is
        found from: from its shortlist, or should that not decide, from every record."""
        if self.needs_whole(topic):
            chosen = shortlisted(shortlist, lambda ids: self.copies_for(topic, ids))
        else:
            chosen = shortlisted(shortlist, self.copies, content=self.content_key, whole=self.whole)
        if chosen is not None:
            return chosen
        records = self.records(topic)
        return self.select(topic, records), records
