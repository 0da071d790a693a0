"""Keeping the reports' daily totals of requests and visits (``HelpRequestDayTotal``,
``VisitDayTotal``), and the waits for help (``VisitWait``, ``WaitDayTotal``), in step with the
rows, on PostgreSQL.

Triggers do it, in the statement that writes the row: a request's status, kind, date or
estimate, and a visit's completion, length or date change in many places (matching, visits,
the daily clock, the admin, data fixes), and a trigger sees every one of them.  Each trigger
takes off what the old row counted for and adds what the new row counts for.  Cells gaining
something are upserted (``INSERT … ON CONFLICT DO UPDATE``), cells losing something are
updated only (never created), so deleting rows never makes a cell out of nothing.  The day is
the row's date in the site's time zone (``TIME_ZONE``), written into the trigger functions when
they are made: after changing ``TIME_ZONE``, run ``localsocial circles_totals --rebuild``, which
makes them again and works every total out afresh.

On SQLite (development) there are no triggers and the reports count the rows themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce, TruncDate

from localsocial.circles.models import HelpRequest, HelpRequestDayTotal, Visit, VisitDayTotal
from localsocial.circles.models.help_totals import help_totals_kept

RequestCells = dict[tuple[int, dt.date, str, str], int]
VisitCells = dict[tuple[int, dt.date, str], tuple[int, int]]


def _postgresql_sql(zone: str) -> list[str]:
    if not zone.replace("/", "").replace("_", "").replace("-", "").replace("+", "").isalnum():
        raise ValueError(f"Unexpected time zone name {zone!r}")
    return [
        f"""
        CREATE OR REPLACE FUNCTION circles_totals_day(moment timestamptz) RETURNS date
        LANGUAGE sql STABLE AS $$ SELECT (moment AT TIME ZONE '{zone}')::date $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_request_total_add(
            p_circle bigint, p_day date, p_category text, p_status text, p_change integer
        ) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF p_change < 0 THEN
                UPDATE circles_helprequestdaytotal SET requests = requests + p_change
                WHERE circle_id = p_circle AND day = p_day AND category = p_category AND status = p_status;
            ELSE
                INSERT INTO circles_helprequestdaytotal (circle_id, day, category, status, requests)
                VALUES (p_circle, p_day, p_category, p_status, p_change)
                ON CONFLICT (circle_id, day, category, status)
                DO UPDATE SET requests = circles_helprequestdaytotal.requests + EXCLUDED.requests;
            END IF;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_visit_total_add(
            p_circle bigint, p_day date, p_category text, p_visits integer, p_quarters bigint
        ) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF p_visits < 0 THEN
                UPDATE circles_visitdaytotal SET visits = visits + p_visits, quarters = quarters + p_quarters
                WHERE circle_id = p_circle AND day = p_day AND category = p_category;
            ELSE
                INSERT INTO circles_visitdaytotal (circle_id, day, category, visits, quarters)
                VALUES (p_circle, p_day, p_category, p_visits, p_quarters)
                ON CONFLICT (circle_id, day, category) DO UPDATE SET
                    visits = circles_visitdaytotal.visits + EXCLUDED.visits,
                    quarters = circles_visitdaytotal.quarters + EXCLUDED.quarters;
            END IF;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_wait_bucket(wait double precision) RETURNS smallint
        LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE WHEN wait < 60 THEN 0 ELSE (floor(ln(wait / 60.0) / ln(1.1)) + 1)::smallint END
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_wait_total_add(p_circle bigint, p_day date, p_bucket smallint,
                                                          p_change integer) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            IF p_change < 0 THEN
                UPDATE circles_waitdaytotal SET visits = visits + p_change
                WHERE circle_id = p_circle AND day = p_day AND bucket = p_bucket;
            ELSE
                INSERT INTO circles_waitdaytotal (circle_id, day, bucket, visits)
                VALUES (p_circle, p_day, p_bucket, p_change)
                ON CONFLICT (circle_id, day, bucket) DO UPDATE SET visits = circles_waitdaytotal.visits + EXCLUDED.visits;
            END IF;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_visit_wait_refresh(p_visit bigint) RETURNS void LANGUAGE plpgsql AS $$
        DECLARE
            old_row record;
            new_row record;
        BEGIN
            DELETE FROM circles_visitwait WHERE visit_id = p_visit
            RETURNING circle_id, checked_in_at, bucket INTO old_row;
            IF FOUND THEN
                PERFORM circles_wait_total_add(old_row.circle_id, circles_totals_day(old_row.checked_in_at),
                                               old_row.bucket, -1);
            END IF;
            INSERT INTO circles_visitwait (visit_id, circle_id, checked_in_at, wait_seconds, bucket)
            SELECT w.id, w.circle_id, w.checked_in_at, w.seconds, circles_wait_bucket(w.seconds)
            FROM (SELECT v.id, v.circle_id, v.checked_in_at,
                         EXTRACT(EPOCH FROM (v.checked_in_at - r.created_at))::double precision AS seconds
                  FROM circles_visit v JOIN circles_helprequest r ON r.id = v.request_id
                  WHERE v.id = p_visit AND v.checked_in_at IS NOT NULL) w
            RETURNING circle_id, checked_in_at, bucket INTO new_row;
            IF FOUND THEN
                PERFORM circles_wait_total_add(new_row.circle_id, circles_totals_day(new_row.checked_in_at),
                                               new_row.bucket, 1);
            END IF;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_helprequest_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            v record;
        BEGIN
            IF TG_OP = 'UPDATE' AND NEW.circle_id = OLD.circle_id AND NEW.created_at = OLD.created_at
                    AND NEW.category = OLD.category AND NEW.status = OLD.status
                    AND NEW.estimated_quarters = OLD.estimated_quarters THEN
                RETURN NULL;
            END IF;
            IF TG_OP = 'UPDATE' AND NEW.created_at <> OLD.created_at THEN
                FOR v IN SELECT id FROM circles_visit WHERE request_id = NEW.id LOOP
                    PERFORM circles_visit_wait_refresh(v.id);
                END LOOP;
            END IF;
            -- The two cells in a fixed order (the smaller first), so that two requests moving in
            -- opposite directions (offered to open, open to offered) cannot deadlock on them.
            IF TG_OP = 'UPDATE' AND ROW(NEW.circle_id, circles_totals_day(NEW.created_at), NEW.category, NEW.status)
                    < ROW(OLD.circle_id, circles_totals_day(OLD.created_at), OLD.category, OLD.status) THEN
                PERFORM circles_request_total_add(NEW.circle_id, circles_totals_day(NEW.created_at), NEW.category,
                                                  NEW.status, 1);
                PERFORM circles_request_total_add(OLD.circle_id, circles_totals_day(OLD.created_at), OLD.category,
                                                  OLD.status, -1);
            ELSE
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    PERFORM circles_request_total_add(OLD.circle_id, circles_totals_day(OLD.created_at),
                                                      OLD.category, OLD.status, -1);
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    PERFORM circles_request_total_add(NEW.circle_id, circles_totals_day(NEW.created_at),
                                                      NEW.category, NEW.status, 1);
                END IF;
            END IF;
            -- A completed visit counts under its request's kind (and estimate when it has no length).
            IF TG_OP = 'UPDATE' AND (NEW.category <> OLD.category OR NEW.estimated_quarters <> OLD.estimated_quarters) THEN
                FOR v IN SELECT circle_id, completed_at, quarters FROM circles_visit
                         WHERE request_id = NEW.id AND completed_at IS NOT NULL LOOP
                    PERFORM circles_visit_total_add(v.circle_id, circles_totals_day(v.completed_at), OLD.category,
                                                    -1, -COALESCE(v.quarters, OLD.estimated_quarters));
                    PERFORM circles_visit_total_add(v.circle_id, circles_totals_day(v.completed_at), NEW.category,
                                                    1, COALESCE(v.quarters, NEW.estimated_quarters));
                END LOOP;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION circles_visit_totals() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            r record;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                PERFORM circles_visit_wait_refresh(OLD.id);
            ELSIF TG_OP = 'INSERT' OR NEW.checked_in_at IS DISTINCT FROM OLD.checked_in_at
                    OR NEW.request_id <> OLD.request_id OR NEW.circle_id <> OLD.circle_id THEN
                PERFORM circles_visit_wait_refresh(NEW.id);
            END IF;
            IF TG_OP = 'UPDATE' AND NEW.circle_id = OLD.circle_id AND NEW.request_id = OLD.request_id
                    AND NEW.completed_at IS NOT DISTINCT FROM OLD.completed_at
                    AND NEW.quarters IS NOT DISTINCT FROM OLD.quarters THEN
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.completed_at IS NOT NULL THEN
                SELECT category, estimated_quarters INTO r FROM circles_helprequest WHERE id = OLD.request_id;
                PERFORM circles_visit_total_add(OLD.circle_id, circles_totals_day(OLD.completed_at), r.category,
                                                -1, -COALESCE(OLD.quarters, r.estimated_quarters));
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.completed_at IS NOT NULL THEN
                SELECT category, estimated_quarters INTO r FROM circles_helprequest WHERE id = NEW.request_id;
                PERFORM circles_visit_total_add(NEW.circle_id, circles_totals_day(NEW.completed_at), r.category,
                                                1, COALESCE(NEW.quarters, r.estimated_quarters));
            END IF;
            RETURN NULL;
        END $$
        """,
        "DROP TRIGGER IF EXISTS circles_helprequest_totals ON circles_helprequest",
        """
        CREATE TRIGGER circles_helprequest_totals AFTER INSERT OR UPDATE OR DELETE ON circles_helprequest
        FOR EACH ROW EXECUTE FUNCTION circles_helprequest_totals()
        """,
        "DROP TRIGGER IF EXISTS circles_visit_totals ON circles_visit",
        """
        CREATE TRIGGER circles_visit_totals AFTER INSERT OR UPDATE OR DELETE ON circles_visit
        FOR EACH ROW EXECUTE FUNCTION circles_visit_totals()
        """,
    ]


# Every checked-in visit's wait, worked out from the rows.
_WAITS_COUNTED = """
    SELECT v.id AS visit_id, v.circle_id, v.checked_in_at,
           EXTRACT(EPOCH FROM (v.checked_in_at - r.created_at))::double precision AS wait_seconds
    FROM circles_visit v JOIN circles_helprequest r ON r.id = v.request_id
    WHERE v.checked_in_at IS NOT NULL
"""
_WAITS_WITH_BANDS = f"SELECT w.*, circles_wait_bucket(w.wait_seconds) AS bucket FROM ({_WAITS_COUNTED}) w"  # noqa: S608
_WAITS_STORED = "SELECT visit_id, circle_id, checked_in_at, wait_seconds, bucket FROM circles_visitwait"
_WAIT_DAYS_COUNTED = (
    "SELECT circle_id, circles_totals_day(checked_in_at) AS day, bucket, COUNT(*)::integer AS visits "
    "FROM circles_visitwait GROUP BY 1, 2, 3"
)
_WAIT_DAYS_STORED = "SELECT circle_id, day, bucket, visits FROM circles_waitdaytotal WHERE visits <> 0"


def help_totals_triggers_ensure(*, schema_editor: Any = None) -> None:
    """(Re)make the trigger functions and triggers, with the current ``TIME_ZONE``.  PostgreSQL only."""
    conn = schema_editor.connection if schema_editor is not None else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        for statement in _postgresql_sql(settings.TIME_ZONE):
            cursor.execute(statement)


def help_totals_counted(*, request: Any = HelpRequest, visit: Any = Visit) -> tuple[RequestCells, VisitCells]:
    """The totals worked out from the rows (two GROUP BY queries).  ``request`` and ``visit`` are
    the models to read (a migration passes its own)."""
    requests: RequestCells = {}
    for row in request.objects.annotate(day=TruncDate("created_at")).values(
        "circle_id", "day", "category", "status"
    ).annotate(n=Count("id")).order_by():
        requests[(row["circle_id"], row["day"], row["category"], row["status"])] = row["n"]
    visits: VisitCells = {}
    for row in visit.objects.filter(completed_at__isnull=False).annotate(
        day=TruncDate("completed_at"), category=F("request__category"),
    ).values("circle_id", "day", "category").annotate(
        n=Count("id"), q=Sum(Coalesce("quarters", "request__estimated_quarters")),
    ).order_by():
        visits[(row["circle_id"], row["day"], row["category"])] = (row["n"], row["q"] or 0)
    return requests, visits


def help_totals_stored(
    *, request_total: Any = HelpRequestDayTotal, visit_total: Any = VisitDayTotal
) -> tuple[RequestCells, VisitCells]:
    requests: RequestCells = {
        (row.circle_id, row.day, row.category, row.status): row.requests
        for row in request_total.objects.exclude(requests=0)
    }
    visits: VisitCells = {
        (row.circle_id, row.day, row.category): (row.visits, row.quarters)
        for row in visit_total.objects.exclude(visits=0, quarters=0)
    }
    return requests, visits


def help_totals_differences(*, limit: int = 20) -> list[str]:
    """The cells where the stored totals and the rows disagree (at most ``limit``), as lines of
    text; an empty list when they agree (always, on SQLite, where nothing is stored)."""
    if not help_totals_kept():
        return []
    lines: list[str] = []
    with connection.cursor() as cursor:
        for name, counted_sql, stored_sql in (
            ("waits", _WAITS_WITH_BANDS, _WAITS_STORED), ("wait days", _WAIT_DAYS_COUNTED, _WAIT_DAYS_STORED),
        ):
            cursor.execute(
                f"SELECT 'missing', * FROM (({counted_sql}) EXCEPT ({stored_sql})) a "  # noqa: S608 (constants)
                f"UNION ALL SELECT 'extra', * FROM (({stored_sql}) EXCEPT ({counted_sql})) b LIMIT %s",
                [limit],
            )
            lines += [f"{name}: {row[0]} {row[1:]}" for row in cursor.fetchall()]
    if len(lines) >= limit:
        return lines[:limit]
    counted, stored = help_totals_counted(), help_totals_stored()
    for name, want_cells, have_cells, zero in (
        ("requests", counted[0], stored[0], 0), ("visits", counted[1], stored[1], (0, 0)),
    ):
        wanted: dict[Any, Any] = dict(want_cells)
        held: dict[Any, Any] = dict(have_cells)
        for key in sorted(set(wanted) | set(held)):
            want, have = wanted.get(key, zero), held.get(key, zero)
            if want != have:
                lines.append(f"{name} {key}: stored {have}, the rows say {want}")
                if len(lines) >= limit:
                    return lines
    return lines


@transaction.atomic
def help_totals_rebuild(
    *, request: Any = HelpRequest, visit: Any = Visit, request_total: Any = HelpRequestDayTotal,
    visit_total: Any = VisitDayTotal, schema_editor: Any = None,
) -> tuple[int, int]:
    """Make the triggers again (with the current ``TIME_ZONE``) and work every total out afresh
    from the rows.  Returns the numbers of request and visit cells written.  PostgreSQL only
    (nothing to do on SQLite).  Locks the two tables against writes while it runs, so that no
    change is counted twice or lost."""
    conn = schema_editor.connection if schema_editor is not None else connection
    if conn.vendor != "postgresql":
        return 0, 0
    with conn.cursor() as cursor:
        cursor.execute("LOCK TABLE circles_helprequest, circles_visit IN SHARE ROW EXCLUSIVE MODE")
    help_totals_triggers_ensure(schema_editor=schema_editor)
    request_total.objects.all().delete()
    visit_total.objects.all().delete()
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM circles_waitdaytotal")
        cursor.execute("DELETE FROM circles_visitwait")
        cursor.execute(
            "INSERT INTO circles_visitwait (visit_id, circle_id, checked_in_at, wait_seconds, bucket) "  # noqa: S608
            f"SELECT visit_id, circle_id, checked_in_at, wait_seconds, bucket FROM ({_WAITS_WITH_BANDS}) w"
        )
        cursor.execute(
            f"INSERT INTO circles_waitdaytotal (circle_id, day, bucket, visits) {_WAIT_DAYS_COUNTED}"
        )
    requests, visits = help_totals_counted(request=request, visit=visit)
    request_total.objects.bulk_create(
        [request_total(circle_id=c, day=d, category=k, status=s, requests=n) for (c, d, k, s), n in requests.items()],
        batch_size=2000,
    )
    visit_total.objects.bulk_create(
        [visit_total(circle_id=c, day=d, category=k, visits=n, quarters=q) for (c, d, k), (n, q) in visits.items()],
        batch_size=2000,
    )
    return len(requests), len(visits)
