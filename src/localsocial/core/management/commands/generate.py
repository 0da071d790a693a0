"""``localsocial generate --scale N``: a large fictional dataset for benchmarks.

The directory and people follow the scale; each module declares its own numbers
(``generator_option`` in its ``generate.py``), each with an option of its own here
(``--stories N``, ``--circles N`` …) that sets it whatever the scale."""

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
    generator_options,
)


class Command(BaseCommand):
    help = (
        "Generate fictional organisations, services and people fast, and every module's data. "
        "--scale 1 is about 10,000 organisations and services and 100,000 people; fractions are "
        "allowed. Each module's numbers follow the scale unless given (--stories N …)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=None,
                            help="How much to generate: 1 ≈ 10k organisations+services, 100k people.")
        parser.add_argument("--reset", action="store_true",
                            help="Delete previously generated rows first (alone: only delete).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        for option in generator_options():
            parser.add_argument(f"--{option.name}", dest=option.dest, type=int, default=None, help=option.help)

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
            counts = {option.name: options.get(option.dest) for option in generator_options()}
            try:
                plan = GenerationPlan.for_scale(scale, counts=counts)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            modules = "".join(f", {plan.count(o.name):,} {o.label}" for o in generator_options())
            self.stdout.write(
                f"Generating at scale {scale:g} on {connection.vendor}: "
                f"{plan.organisations:,} organisations, {plan.services:,} services, "
                f"{plan.users:,} people{modules}"
            )
            try:
                timings = generate(scale=scale, seed=options["seed"], reset=reset, counts=counts,
                                   report=self._report)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        rows = sum(t.rows for t in timings)
        total = time.perf_counter() - started
        self.stdout.write(f"Done: {rows:,} rows in {total:.2f} s ({rows / total:,.0f} rows/s overall).")
