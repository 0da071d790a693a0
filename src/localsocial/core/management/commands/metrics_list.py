"""List the registered platform metrics (core.metrics), or print one metric's figures as CSV."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from localsocial.core.metrics import metric_observations, metrics


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"{text!r} is not a date like 2026-01-31.") from exc


class Command(BaseCommand):
    help = (
        "List the platform metrics the modules register (slug, unit, label, description). "
        "With --metric SLUG --from DATE --to DATE, print its figures as CSV "
        "(area_gss,period,value), optionally only for --area GSS (repeatable)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--metric", help="The slug of the metric to print figures of.")
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD (included).")
        parser.add_argument("--area", action="append", default=None, help="An ONS GSS code; repeat for more.")

    def handle(self, *args: Any, **options: Any) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        if not options["metric"]:
            writer.writerow(["slug", "unit", "label", "description"])
            for metric in metrics():
                writer.writerow([metric.slug, metric.unit, str(metric.label), str(metric.description)])
            return
        if not (options["start"] and options["end"]):
            raise CommandError("Give --from and --to with --metric.")
        try:
            observations = metric_observations(
                options["metric"], area_gss_codes=options["area"], start=_date(options["start"]),
                end=_date(options["end"]),
            )
        except KeyError as exc:
            raise CommandError(f"No metric is registered as {options['metric']!r}.") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        writer.writerow(["area_gss", "period", "value"])
        for observation in observations:
            writer.writerow([observation.area_gss, observation.period.isoformat(), observation.value])
