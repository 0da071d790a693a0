"""Keeping the dashboard's daily totals (``StoryDayTotal``, ``StoryDayTagTotal``) in step with
the stories' list rows.

What a published story counts for is read off its ``StoryListing`` rows: the organisations of
its "org" rows, the tags of its "tag" rows, the date of its publication, whether it has been
answered or changed and its criticality.  ``story_listing_refresh`` and ``story_listing_sync``
describe the story before and after they write (``ListedAs``) and call
``story_totals_change``, which adds the difference to the cells it touches: a story moving from
criticality 2 to 4 is -1 and +1 in two columns of each of its organisations' day; a story
withdrawn is -1 everywhere it counted.  Cells gaining a story are upserted, cells that held it
already are updated (two statements a table at most), so two stories published at once on the
same day both count, and cells are written in a fixed order so that concurrent transactions
cannot deadlock on them.

``story_totals_rebuild`` works every total out afresh from the list rows (after a bulk load,
or if the time zone setting changes); ``story_totals_differences`` compares them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from localsocial.stories.models import (
    Criticality,
    ListingScope,
    Story,
    StoryDayTagTotal,
    StoryDayTotal,
    StoryListing,
)

logger = logging.getLogger(__name__)

CRITICALITY_FIELDS = {level.value: f"criticality_{level.value}" for level in Criticality}
# Every counting column of StoryDayTotal, in table order.
COUNT_FIELDS = ("stories", "responded", "change_planned", "changed", "unrated", *CRITICALITY_FIELDS.values())


@dataclass(frozen=True)
class ListedAs:
    """What a published story counts for in the totals: read off its list rows."""

    organisation_ids: frozenset[int]
    tag_ids: frozenset[int]
    published_at: dt.datetime
    criticality: int | None
    answered: bool
    change_planned: bool
    changed: bool

    @property
    def day(self) -> dt.date:
        return day_of(self.published_at)

    def counts(self) -> dict[str, int]:
        """The story's contribution to its day's row of each of its organisations."""
        counts = {
            "stories": 1, "responded": int(self.answered), "change_planned": int(self.change_planned),
            "changed": int(self.changed),
        }
        counts["unrated" if self.criticality is None else CRITICALITY_FIELDS[self.criticality]] = 1
        return counts


def day_of(moment: dt.datetime) -> dt.date:
    """``moment``'s date in the site's time zone (as ``TruncDate`` gives it)."""
    return timezone.localtime(moment, timezone.get_current_timezone()).date()


LISTED_AS_COLUMNS = (
    "scope", "scope_id", "published_at", "criticality", "first_response_at", "change_planned_at", "changed_at",
)


def listed_as(rows: Iterable[Sequence[Any]]) -> ListedAs | None:
    """Describe a story from its list rows, given as tuples of ``LISTED_AS_COLUMNS`` (any
    scopes; only "org" and "tag" rows matter).  None when it has no "org" rows, so counts
    nowhere."""
    organisations: set[int] = set()
    tags: set[int] = set()
    first: Sequence[Any] | None = None
    for row in rows:
        scope, scope_id = row[0], row[1]
        if scope == ListingScope.ORGANISATION:
            organisations.add(scope_id)
            first = first or row
        elif scope == ListingScope.TAG:
            tags.add(scope_id)
    if first is None:
        return None
    _scope, _id, published_at, criticality, first_response_at, change_planned_at, changed_at = first
    return ListedAs(
        organisation_ids=frozenset(organisations), tag_ids=frozenset(tags), published_at=published_at,
        criticality=criticality, answered=first_response_at is not None,
        change_planned=change_planned_at is not None, changed=changed_at is not None,
    )


def story_listed_as_locked(*, story_id: int) -> ListedAs | None:
    """The story as its list rows count it now, with the story's row locked until the
    transaction ends (PostgreSQL), so that two transactions rewriting the same story's rows
    take turns and each sees what the other wrote.  Call inside a transaction."""
    list(Story.objects.select_for_update().filter(pk=story_id).values_list("pk"))
    rows = StoryListing.objects.filter(
        story_id=story_id, scope__in=[ListingScope.ORGANISATION, ListingScope.TAG]
    ).values_list(*LISTED_AS_COLUMNS)
    return listed_as(rows)


@transaction.atomic
def story_totals_change(*, before: ListedAs | None, after: ListedAs | None) -> None:
    """Take ``before`` out of the totals and put ``after`` in (either may be None: a story
    published, or a story taken out of every list).  At most two queries, none when nothing
    changes (a few more if the totals were found out of step, when it counts again the cells it
    touches)."""
    day_cells: defaultdict[tuple[int, dt.date], Counter[str]] = defaultdict(Counter)
    tag_cells: Counter[tuple[int, dt.date, int]] = Counter()
    for state, sign in ((before, -1), (after, 1)):
        if state is None:
            continue
        day, counts = state.day, state.counts()
        for organisation_id in state.organisation_ids:
            cell = day_cells[(organisation_id, day)]
            for name, value in counts.items():
                cell[name] += sign * value
            for tag_id in state.tag_ids:
                tag_cells[(organisation_id, day, tag_id)] += sign
    day_rows = [
        (organisation_id, day, *(cell[name] for name in COUNT_FIELDS))
        for (organisation_id, day), cell in sorted(day_cells.items())
        if any(cell.values())
    ]
    tag_rows = [(*key, change) for key, change in sorted(tag_cells.items()) if change]
    try:
        # A savepoint, so that a change found out of step half way leaves nothing behind.
        with transaction.atomic():
            _add(StoryDayTotal, ("organisation_id", "day"), COUNT_FIELDS, day_rows)
            _add(StoryDayTagTotal, ("organisation_id", "day", "tag_id"), ("stories",), tag_rows)
    except (TotalsOutOfStepError, IntegrityError) as error:
        # The totals no longer matched the list rows (a story changed behind the services'
        # back, or an organisation or tag was deleted): count the cells this change touches
        # again rather than refuse to publish or withdraw a story over a figure.
        logger.warning("Stories totals out of step (%s); counting the cells touched again", error)
        story_totals_recount(
            organisation_ids={cell[0] for cell in day_cells}, days={cell[1] for cell in day_cells}
        )


class TotalsOutOfStepError(RuntimeError):
    """A story is being taken out of a total that does not hold it: the totals no longer
    match the list rows."""


def _add(
    model: type[models.Model], key: Sequence[str], counters: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Add each row's counters (``stories`` first) to the row of the table with its key.

    A row where ``stories`` goes up counts a story that was not counted there before, so the
    row may be new: ``INSERT … ON CONFLICT DO UPDATE``.  Every other row changes how a story
    already counted there is counted, or takes it out, so the row must be there already: an
    ``UPDATE … FROM (VALUES …)``, which raises ``TotalsOutOfStepError`` if a row is missing.  (The
    two are kept apart because both databases check a table's CHECK constraints against the
    row an upsert proposes before they look for a conflict.)"""
    width = len(key)
    _insert_or_add(model, key, counters, [row for row in rows if row[width] > 0])
    _add_to_existing(model, key, counters, [row for row in rows if row[width] <= 0])


def _params(key: Sequence[str], rows: list[tuple[Any, ...]]) -> list[Any]:
    day_at = key.index("day")
    params: list[Any] = []
    for row in rows:
        values = list(row)
        values[day_at] = connection.ops.adapt_datefield_value(values[day_at])
        params.extend(values)
    return params


def _insert_or_add(
    model: type[models.Model], key: Sequence[str], counters: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [*key, *counters]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    additions = ", ".join(f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in counters)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 (names from the model)
        f"VALUES {', '.join([placeholders] * len(rows))} "
        f"ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET {additions}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(key, rows))


def _add_to_existing(
    model: type[models.Model], key: Sequence[str], counters: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # VALUES' columns are column1, column2 … on both databases.
    width = len(key)
    placeholders = "(" + ", ".join(["%s"] * (width + len(counters))) + ")"
    additions = ", ".join(
        f"{quote(c)} = {table}.{quote(c)} + v.column{width + i + 1}" for i, c in enumerate(counters)
    )
    matches = " AND ".join(f"{table}.{quote(c)} = v.column{i + 1}" for i, c in enumerate(key))
    sql = (
        f"UPDATE {table} SET {additions} "  # noqa: S608 (names from the model)
        f"FROM (VALUES {', '.join([placeholders] * len(rows))}) AS v WHERE {matches}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(key, rows))
        if cursor.rowcount != len(rows):
            raise TotalsOutOfStepError(
                f"{len(rows) - cursor.rowcount} of {len(rows)} {model._meta.db_table} rows to change are missing"
            )


# --- Working them out afresh -----------------------------------------------------------------


def _listing_day() -> TruncDate:
    return TruncDate("published_at", tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class _Tables:
    """The models the totals are worked out from and into: the current ones, or a
    migration's historical ones."""

    listing: type[models.Model] = StoryListing
    day_total: type[models.Model] = StoryDayTotal
    tag_total: type[models.Model] = StoryDayTagTotal

    def org_rows(self, organisation_ids: Iterable[int] | None) -> models.QuerySet[Any]:
        # Only organisations and tags that still exist: the totals point at them.
        organisation = self.day_total._meta.get_field("organisation").related_model
        rows = self.listing._default_manager.filter(
            scope=ListingScope.ORGANISATION.value, scope_id__in=organisation._default_manager.values("pk")  # type: ignore[union-attr]
        )
        return rows if organisation_ids is None else rows.filter(scope_id__in=list(organisation_ids))


def _computed_day_totals(
    tables: _Tables = _Tables(), organisation_ids: Iterable[int] | None = None
) -> models.QuerySet[Any]:
    """The day totals as the list rows give them: one row per organisation and day, with
    ``COUNT_FIELDS`` in order after ``scope_id`` and ``day``."""
    per_level = {
        field: Count("pk", filter=Q(criticality=level)) for level, field in CRITICALITY_FIELDS.items()
    }
    return (
        tables.org_rows(organisation_ids)
        .annotate(day=_listing_day())
        .values("scope_id", "day")
        .annotate(
            stories=Count("pk"), responded=Count("first_response_at"), change_planned=Count("change_planned_at"),
            changed=Count("changed_at"), unrated=Count("pk", filter=Q(criticality__isnull=True)), **per_level,
        )
        .order_by()
    )


def _computed_tag_totals(
    tables: _Tables = _Tables(), organisation_ids: Iterable[int] | None = None
) -> models.QuerySet[Any]:
    """The tag totals as the list rows give them: ``scope_id``, ``day``, ``tag_ref`` and
    ``stories`` in that order."""
    tag = tables.tag_total._meta.get_field("tag").related_model
    # The story's tags are its "tag" list rows, as ``listed_as`` reads them.
    return (
        tables.org_rows(organisation_ids)
        .filter(
            story__listings__scope=ListingScope.TAG.value,
            story__listings__scope_id__in=tag._default_manager.values("pk"),  # type: ignore[union-attr]
        )
        .annotate(day=_listing_day(), tag_ref=F("story__listings__scope_id"))
        .values("scope_id", "day", "tag_ref")
        .annotate(stories=Count("pk"))
        .order_by()
    )


def _insert_computed(tables: _Tables, day_rows: models.QuerySet[Any], tag_rows: models.QuerySet[Any]) -> None:
    """Write the rows of two ``_computed_…`` querysets into the totals: ``INSERT … SELECT``."""
    quote = connection.ops.quote_name
    for model, columns, rows in (
        (tables.day_total, ("organisation_id", "day", *COUNT_FIELDS), day_rows),
        (tables.tag_total, ("organisation_id", "day", "tag_id", "stories"), tag_rows),
    ):
        select_sql, params = rows.query.sql_with_params()
        names = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {quote(model._meta.db_table)} ({names}) {select_sql}", params)


def story_totals_rebuild(
    *,
    listing: type[models.Model] = StoryListing,
    day_total: type[models.Model] = StoryDayTotal,
    tag_total: type[models.Model] = StoryDayTagTotal,
) -> tuple[int, int]:
    """Throw the totals away and work them out again from the list rows, in the database (two
    ``INSERT … SELECT``).  Returns the number of day rows and tag rows.  The models may be a
    migration's historical ones."""
    tables = _Tables(listing=listing, day_total=day_total, tag_total=tag_total)
    with transaction.atomic():
        tag_total._default_manager.all().delete()
        day_total._default_manager.all().delete()
        _insert_computed(tables, _computed_day_totals(tables), _computed_tag_totals(tables))
        return day_total._default_manager.count(), tag_total._default_manager.count()


def story_totals_recount(*, organisation_ids: Collection[int], days: Collection[dt.date]) -> None:
    """Work the totals of some organisations' days out again from the list rows: how
    ``story_totals_change`` mends the cells it found out of step."""
    tables = _Tables()
    with transaction.atomic():
        for model in (StoryDayTagTotal, StoryDayTotal):
            model.objects.filter(organisation_id__in=organisation_ids, day__in=days).delete()
        _insert_computed(
            tables,
            _computed_day_totals(tables, organisation_ids).filter(day__in=days),
            _computed_tag_totals(tables, organisation_ids).filter(day__in=days),
        )


def story_totals_differences(*, organisation_ids: Iterable[int] | None = None, limit: int = 20) -> list[str]:
    """Where the kept totals differ from the totals worked out afresh from the list rows, in
    plain words (at most ``limit`` lines); empty when they agree.  Cells that are zero
    everywhere count as absent."""
    ids = None if organisation_ids is None else list(organisation_ids)
    wanted_days = {
        (row["scope_id"], _as_date(row["day"])): tuple(row[name] for name in COUNT_FIELDS)
        for row in _computed_day_totals(organisation_ids=ids)
    }
    kept = StoryDayTotal.objects.all() if ids is None else StoryDayTotal.objects.filter(organisation_id__in=ids)
    kept_days = {
        (row[0], row[1]): tuple(row[2:])
        for row in kept.values_list("organisation_id", "day", *COUNT_FIELDS)
        if any(row[2:])
    }
    wanted_tags = {
        (row["scope_id"], _as_date(row["day"]), row["tag_ref"]): row["stories"]
        for row in _computed_tag_totals(organisation_ids=ids)
    }
    kept_tag_rows = StoryDayTagTotal.objects.filter(stories__gt=0)
    if ids is not None:
        kept_tag_rows = kept_tag_rows.filter(organisation_id__in=ids)
    kept_tags = {(org, day, tag): n for org, day, tag, n in kept_tag_rows.values_list(
        "organisation_id", "day", "tag_id", "stories")}
    problems = []
    for key in sorted(wanted_days.keys() | kept_days.keys()):
        want, have = wanted_days.get(key), kept_days.get(key)
        if want != have:
            problems.append(
                f"Organisation {key[0]}, {key[1]:%d %B %Y}: kept {_describe(have)}, the stories give {_describe(want)}"
            )
    for tag_key in sorted(wanted_tags.keys() | kept_tags.keys()):
        want_n, have_n = wanted_tags.get(tag_key, 0), kept_tags.get(tag_key, 0)
        if want_n != have_n:
            problems.append(
                f"Organisation {tag_key[0]}, {tag_key[1]:%d %B %Y}, tag {tag_key[2]}: "
                f"kept {have_n} stories, the stories give {want_n}"
            )
    return problems[:limit]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value  # type: ignore[no-any-return]


def _describe(values: tuple[int, ...] | None) -> str:
    if values is None:
        return "nothing"
    return ", ".join(f"{name} {value}" for name, value in zip(COUNT_FIELDS, values, strict=True))
