"""Loading postcode locations from the ONS Postcode Directory (ONSPD) or a simple CSV.

Two headers are understood (extra columns are ignored, names in any case):

* ONSPD: ``pcds`` (the postcode), ``lat``, ``long``, ``oslaua`` (local authority GSS code) and
  ``doterm`` (the month it was terminated, ``YYYYMM``, empty while in use);
* simple: ``postcode``, ``latitude``, ``longitude``.

The file is read a row at a time and written in batches, so the full ONSPD (about 2.7 million
rows) loads in constant memory.  Loading is an upsert on the postcode: running it again, or
with a newer edition, updates rows in place and never duplicates them.  ONSPD gives postcodes
it cannot place a latitude of 99.999999; those are skipped (counted, not errors).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.db import transaction

from localsocial.directory.models import GSS_RE, POSTCODE_RE, Postcode, normalise_postcode

BATCH_SIZE = 2000
# The errors kept for the report; the count goes on past this.
ERRORS_KEPT = 100
# A few demo postcodes with approximate real locations (``localsocial demo`` loads them).
DEMO_POSTCODES = Path(__file__).resolve().parent / "fixtures" / "demo_postcodes.csv"

_COLUMNS = {
    "onspd": {"postcode": "pcds", "latitude": "lat", "longitude": "long", "gss": "oslaua", "terminated": "doterm"},
    "simple": {"postcode": "postcode", "latitude": "latitude", "longitude": "longitude"},
}
_POSTCODE = re.compile(POSTCODE_RE)
_GSS = re.compile(GSS_RE)
# ONSPD's pseudo-codes for "no local authority" (Channel Islands, Isle of Man).
_NO_GSS = {"", "L99999999", "M99999999"}


class PostcodeFileError(ValueError):
    """The file cannot be read as a postcode file at all (its header is wrong)."""


@dataclass
class PostcodeLoadReport:
    rows: int = 0
    loaded: int = 0
    created: int = 0
    skipped_no_location: int = 0
    error_count: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(f"Line {line}: {message}")

    def summary(self) -> str:
        return (
            f"{self.rows} row(s) read: {self.loaded} loaded ({self.created} new, {self.loaded - self.created} updated), "
            f"{self.skipped_no_location} without a location skipped, {self.error_count} rejected."
        )


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _month(text: str) -> dt.date | None:
    """ONSPD's ``YYYYMM`` as the first day of that month."""
    if not re.fullmatch(r"\d{6}", text):
        raise ValueError(text)
    return dt.date(int(text[:4]), int(text[4:]), 1)


def _row_parse(row: dict[str, str], columns: dict[str, str], line: int,
               report: PostcodeLoadReport) -> Postcode | None:
    postcode = normalise_postcode(row.get(columns["postcode"]) or "")
    if not _POSTCODE.match(postcode):
        report.error(line, f"{postcode or '(empty)'!r} is not a full UK postcode.")
        return None
    lat_text = (row.get(columns["latitude"]) or "").strip()
    lon_text = (row.get(columns["longitude"]) or "").strip()
    if lat_text.startswith("99.999999") or (not lat_text and not lon_text):
        report.skipped_no_location += 1
        return None
    latitude, longitude = _float(lat_text), _float(lon_text)
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        report.error(line, f"{postcode}: the latitude and longitude must be numbers, like 51.5 and -0.12.")
        return None
    gss = (row.get(columns.get("gss", ""), "") or "").strip().upper()
    if gss in _NO_GSS:
        gss = ""
    elif not _GSS.match(gss):
        report.error(line, f"{postcode}: {gss!r} is not an ONS GSS code like E09000028.")
        return None
    terminated_text = (row.get(columns.get("terminated", ""), "") or "").strip()
    try:
        terminated_on = _month(terminated_text) if terminated_text else None
    except ValueError:
        report.error(line, f"{postcode}: {terminated_text!r} is not a month like 202001.")
        return None
    return Postcode(postcode=postcode, latitude=latitude, longitude=longitude, local_authority_gss=gss,
                    terminated_on=terminated_on)


def _batch_write(batch: dict[str, Postcode], report: PostcodeLoadReport) -> None:
    with transaction.atomic():
        existing = Postcode.objects.filter(postcode__in=list(batch)).count()
        Postcode.objects.bulk_create(
            list(batch.values()), update_conflicts=True, unique_fields=["postcode"],
            update_fields=["latitude", "longitude", "local_authority_gss", "terminated_on"],
        )
    report.loaded += len(batch)
    report.created += len(batch) - existing


def postcodes_load(*, lines: Iterable[str], batch_size: int = BATCH_SIZE) -> PostcodeLoadReport:
    """Upsert the postcodes of a CSV (given as lines of text) and report what happened.

    Promises: every good row is written (a postcode repeated in the file: its last row wins),
    each bad row is reported with its line number and skipped, and running it twice leaves the
    same table.  Raises ``PostcodeFileError`` if the header has neither ONSPD's columns nor
    ``postcode,latitude,longitude``."""
    reader = csv.DictReader(iter(lines))
    header = {name.strip().lower(): name for name in reader.fieldnames or []}
    kind = next((kind for kind, columns in _COLUMNS.items()
                 if all(columns[key] in header for key in ("postcode", "latitude", "longitude"))), None)
    if kind is None:
        raise PostcodeFileError(
            "The first line must name the columns: ONSPD's pcds, lat, long (and oslaua, doterm), "
            "or postcode, latitude, longitude."
        )
    columns = {key: header[name] for key, name in _COLUMNS[kind].items() if name in header}
    report = PostcodeLoadReport()
    batch: dict[str, Postcode] = {}
    for row in reader:
        report.rows += 1
        postcode = _row_parse(row, columns, reader.line_num, report)
        if postcode is None:
            continue
        batch[postcode.postcode] = postcode
        if len(batch) >= batch_size:
            _batch_write(batch, report)
            batch = {}
    if batch:
        _batch_write(batch, report)
    return report


def _lines(handle: IO[str]) -> Iterator[str]:
    yield from handle


def postcodes_load_file(path: str | Path, *, batch_size: int = BATCH_SIZE) -> PostcodeLoadReport:
    """``postcodes_load`` from a file on disk (UTF-8, with or without a byte-order mark)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return postcodes_load(lines=_lines(handle), batch_size=batch_size)
