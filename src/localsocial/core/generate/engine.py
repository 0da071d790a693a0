"""The generator's engine: the registry of steps, fast writes and deletes, and the run."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max, signals
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from localsocial.core.generate.plan import GenerationPlan

BATCH_SIZE = 5_000


@dataclass
class GenerateContext:
    """What every step can read: the plan, a seeded random source, the time the run started,
    and the ids earlier steps created (``ids["users"]``, ``ids["services"]`` …)."""

    plan: GenerationPlan
    rng: random.Random
    now: datetime
    ids: dict[str, Sequence[int]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneratorStep:
    name: str
    order: int
    run: Callable[[GenerateContext], int]
    reset: Callable[[], int] | None = None


@dataclass(frozen=True)
class StepTiming:
    name: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


_STEPS: dict[str, GeneratorStep] = {}


def generator_step(
    name: str, *, order: int, reset: Callable[[], int] | None = None
) -> Callable[[Callable[[GenerateContext], int]], Callable[[GenerateContext], int]]:
    """Register a step: ``run(ctx)`` writes rows and returns how many; ``reset()`` deletes
    the rows earlier runs generated and returns how many.  Registering a name again replaces
    the step (so a module can be reloaded)."""

    def register(run: Callable[[GenerateContext], int]) -> Callable[[GenerateContext], int]:
        _STEPS[name] = GeneratorStep(name=name, order=order, run=run, reset=reset)
        return run

    return register


def generator_steps() -> list[GeneratorStep]:
    """Every registered step, in the order they run; each app's ``generate`` module is
    imported first so that its steps are registered."""
    autodiscover_modules("generate")
    return sorted(_STEPS.values(), key=lambda step: (step.order, step.name))


# --- Writing rows fast -------------------------------------------------------------------------


def _chunks(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_defaults(model: type[models.Model], columns: Sequence[str], now: datetime
                   ) -> tuple[list[str], tuple[Any, ...]]:
    """The columns a COPY must fill that the step did not give, with their values.

    COPY bypasses Django, so Python-side defaults (``default=``, ``auto_now``) would be lost;
    filling them here keeps a field added later by a module from breaking the generator."""
    given = set(columns)
    names: list[str] = []
    values: list[Any] = []
    for model_field in model._meta.concrete_fields:
        if model_field.attname in given or model_field.name in given:
            continue
        if model_field.primary_key or model_field.generated or getattr(
                model_field, "db_default", models.NOT_PROVIDED) is not models.NOT_PROVIDED:
            continue  # the database fills these
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value: Any = now
        else:
            value = model_field.get_default()
        names.append(str(model_field.column))
        values.append(model_field.get_db_prep_save(value, connection))
    return names, tuple(values)


def bulk_insert(model: type[models.Model], columns: Sequence[str],
                rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, which are attribute names such as
    ``parent_id``) and return how many were written.

    On PostgreSQL this is one ``COPY … FROM STDIN``; elsewhere INSERTs in batches of
    ``BATCH_SIZE``; either way the values are stored as given (``auto_now_add`` included) and
    the columns not given get their defaults.  Rows may be a generator: they are never all held in memory at once.
    Values must already be what the database stores (no field conversion beyond psycopg's
    own adaptation of str, int, bool, Decimal, datetime and None)."""
    if connection.vendor == "postgresql":
        meta = model._meta
        column_names = [str(getattr(meta.get_field(name), "column", name)) for name in columns]
        extra_names, extra_values = _copy_defaults(model, columns, timezone.now())
        quote = connection.ops.quote_name
        sql = (
            f"COPY {quote(str(meta.db_table))} "
            f"({', '.join(quote(c) for c in [*column_names, *extra_names])}) FROM STDIN"
        )
        count = 0
        # Django's cursor wraps psycopg's; COPY needs psycopg's own (``cursor.cursor``).
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if extra_values:
                for row in rows:
                    copy.write_row(row + extra_values)
                    count += 1
            else:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    # Elsewhere (SQLite, for development and tests): plain INSERTs of the values as given, in
    # batches.  Not ``bulk_create``, which would replace the times given for ``auto_now_add``
    # fields (when a transfer was made, when a member joined) with the time of the run.
    meta = model._meta
    fields: list[Any] = [meta.get_field(name) for name in columns]
    extra_names, extra_values = _copy_defaults(model, columns, timezone.now())
    names = [str(getattr(f, "column", name)) for f, name in zip(fields, columns, strict=True)] + extra_names
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(str(meta.db_table))} ({', '.join(quote(n) for n in names)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    count = 0
    with connection.cursor() as cursor:
        for chunk in _chunks(rows, BATCH_SIZE):
            cursor.executemany(sql, [
                [f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True)]
                + list(extra_values)
                for row in chunk
            ])
            count += len(chunk)
    return count


def next_id(model: type[models.Model]) -> int:
    """The first id after every existing row of ``model``."""
    return (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """Move the id sequences past the ids the generator wrote itself (PostgreSQL only:
    SQLite takes the largest id + 1 on its own)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def delete_fast(queryset: models.QuerySet[Any]) -> int:
    """Delete the rows of ``queryset`` and what depends on them, as Django would, but with
    one statement per relation using a subquery instead of loading every row and sending
    lists of ids; returns the number of rows deleted.

    ``QuerySet.delete()`` reads all 100,000 generated people into memory and then sends an
    ``IN (…100,000 ids…)`` list per related table: about 20 seconds.  This does the same
    work in about one.  PROTECT and RESTRICT relations are checked for rows still pointing at
    these (none: they are skipped); rows pointing at them, another kind of relation, or a model
    with delete signals, fall back to ``QuerySet.delete()`` (which refuses as Django does)."""
    model = queryset.model
    relations = [
        rel for rel in model._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and (rel.one_to_one or rel.one_to_many)
    ]
    handled = (models.CASCADE, models.SET_NULL, models.DO_NOTHING)
    ids = queryset.values("pk")

    def protecting(rel: Any) -> bool:
        # A PROTECT or RESTRICT relation only matters when some row still points at these:
        # a module's rows (circle members) are reset before the people they belong to.
        if getattr(rel, "on_delete", None) not in (models.PROTECT, models.RESTRICT):
            return False
        return bool(rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": ids}).exists())

    if any(getattr(rel, "on_delete", None) not in (*handled, models.PROTECT, models.RESTRICT) for rel in relations) \
            or any(protecting(rel) for rel in relations) \
            or any(signal.has_listeners(model) for signal in (signals.pre_delete, signals.post_delete)):
        return queryset.delete()[0]
    deleted = 0
    for rel in relations:
        related_model = rel.related_model
        assert related_model is not None
        assert not isinstance(related_model, str)
        fk_name = rel.field.name  # type: ignore[union-attr]
        dependents = related_model._base_manager.filter(**{f"{fk_name}__in": ids})
        on_delete = getattr(rel, "on_delete", None)
        if on_delete is models.CASCADE:
            deleted += delete_fast(dependents)
        elif on_delete is models.SET_NULL:
            dependents.update(**{fk_name: None})
    # Everything that pointed at these rows has been dealt with above, so the rows can go in
    # one statement (the same private call Django's own deletion collector ends with).
    return deleted + queryset._raw_delete(queryset.db)


def _analyse() -> None:
    # Fresh statistics for every table (each module's included), so that the first queries
    # after a big load get good plans.  PostgreSQL samples a fixed number of rows a table, so
    # this takes about a second even at millions of rows.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- Running ---------------------------------------------------------------------------------


def _timed(name: str, rows: int, started: float, timings: list[StepTiming],
           report: Callable[[StepTiming], None] | None) -> None:
    timing = StepTiming(name, rows, time.perf_counter() - started)
    timings.append(timing)
    if report:
        report(timing)


def generated_reset(*, report: Callable[[StepTiming], None] | None = None) -> list[StepTiming]:
    """Delete every generated row, step by step in reverse order, in one transaction;
    return the timings (the commit is timed on its own: on PostgreSQL the foreign-key checks
    of the deleted rows run then)."""
    timings: list[StepTiming] = []
    with transaction.atomic():
        for step in reversed(generator_steps()):
            if step.reset is None:
                continue
            started = time.perf_counter()
            _timed(f"reset {step.name}", step.reset(), started, timings, report)
        started = time.perf_counter()
    _timed("reset commit", 0, started, timings, report)
    return timings


def generate(*, scale: float, seed: int = 1, reset: bool = False, counts: Mapping[str, int | None] | None = None,
             report: Callable[[StepTiming], None] | None = None) -> list[StepTiming]:
    """Generate the dataset for ``scale`` (after deleting earlier generated rows if ``reset``)
    and return how long each step took.  ``counts`` sets modules' numbers whatever the scale
    (``{"stories": 1_000_000}``, by the names of their ``generator_option``).

    All the steps run in one transaction: a failure leaves the database as it was.  Tables
    are analysed afterwards so the planner knows their new sizes."""
    plan = GenerationPlan.for_scale(scale, counts=counts)
    timings: list[StepTiming] = []
    if reset:
        timings += generated_reset(report=report)
    ctx = GenerateContext(plan=plan, rng=random.Random(seed), now=timezone.now())
    steps = generator_steps()
    with transaction.atomic():
        for step in steps:
            started = time.perf_counter()
            _timed(step.name, step.run(ctx), started, timings, report)
        started = time.perf_counter()
    _timed("commit", 0, started, timings, report)
    started = time.perf_counter()
    _analyse()
    _timed("analyse", 0, started, timings, report)
    return timings
