"""``localsocial generate --scale N``: a large fictional dataset for benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from localsocial.core.generate import (
    GenerationPlan,
    StepTiming,
    generate,
    generated_reset,
    stories_count,
)


class Command(BaseCommand):
    help = (
        "Generate fictional organisations, services and people fast. --scale 1 is about "
        "10,000 organisations and services, 100,000 people and 10,000 stories; fractions are "
        "allowed. --stories N sets the number of stories whatever the scale."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=None,
                            help="How much to generate: 1 ≈ 10k organisations+services, 100k people.")
        parser.add_argument("--reset", action="store_true",
                            help="Delete previously generated rows first (alone: only delete).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--stories", type=int, default=None,
                            help="How many stories (default 10,000 times the scale), about 0.6 "
                                 "responses each.")

    def _report(self, timing: StepTiming) -> None:
        rate = f"{timing.rows_per_second:>12,.0f} rows/s" if timing.rows else ""
        self.stdout.write(f"  {timing.name:<34} {timing.rows:>10,} rows {timing.seconds:>8.2f} s {rate}")

    def handle(self, *args: Any, **options: Any) -> None:
        scale, reset = options["scale"], options["reset"]
        if scale is None and not reset:
            raise CommandError("Give --scale N (and/or --reset).")
        started = time.perf_counter()
        if scale is None:
            self.stdout.write(f"Deleting generated data ({connection.vendor}):")
            timings = generated_reset(report=self._report)
        else:
            try:
                plan = GenerationPlan.for_scale(scale, stories=options["stories"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"Generating at scale {scale:g} on {connection.vendor}: "
                f"{plan.organisations:,} organisations, {plan.services:,} services, "
                f"{plan.users:,} people, {plan.stories:,} stories"
            )
            with stories_count(options["stories"]):
                timings = generate(scale=scale, seed=options["seed"], reset=reset, report=self._report)
        rows = sum(t.rows for t in timings)
        total = time.perf_counter() - started
        self.stdout.write(f"Done: {rows:,} rows in {total:.2f} s ({rows / total:,.0f} rows/s overall).")
