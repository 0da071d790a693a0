"""The whole directory as CSV, in the format that ``directory.imports`` reads."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from localsocial.directory.csv_format import (
    AREA,
    AREA_SEPARATOR,
    COLUMNS,
    NO,
    ORGANISATION,
    SERVICE,
    TEXT_COLUMNS,
    YES,
    protect_cell,
)
from localsocial.directory.models import Area, Organisation, Service

CHUNK = 2000


class _Line:
    """A file-like object that hands back what csv.writer wrote, one line at a time."""

    def __init__(self) -> None:
        self.value = ""

    def write(self, text: str) -> int:
        self.value = text
        return len(text)


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    return protect_cell(text) if column in TEXT_COLUMNS else text


def _row(values: dict[str, Any]) -> list[str]:
    return [_cell(column, values.get(column)) for column in COLUMNS]


def directory_export_rows() -> Iterator[list[str]]:
    """The header, then every area, organisation (parents before their children) and
    service.  Reads in chunks, so memory stays flat however large the directory."""
    yield list(COLUMNS)
    for area in Area.objects.order_by("gss_code").iterator(chunk_size=CHUNK):
        yield _row({"record_type": AREA, "id": area.gss_code, "name": area.name, "type": area.area_type})
    organisations = (
        Organisation.objects.select_related("parent")
        .prefetch_related("areas_served")
        .order_by("path", "id")
        .iterator(chunk_size=CHUNK)
    )
    for org in organisations:
        yield _row(
            {
                "record_type": ORGANISATION,
                "id": org.slug,
                "name": org.name,
                "type": org.org_type,
                "parent_id": org.parent.slug if org.parent else "",
                "ods_code": org.ods_code,
                "gss_code": org.gss_code,
                "charity_number": org.charity_number,
                "description": org.description,
                "address": org.address,
                "postcode": org.postcode,
                "latitude": org.latitude,
                "longitude": org.longitude,
                "website": org.website,
                "email": org.email,
                "phone": org.phone,
                "areas_served": AREA_SEPARATOR.join(sorted(a.gss_code for a in org.areas_served.all())),
                "private_provider": org.is_private_provider,
            }
        )
    services = (
        Service.objects.select_related("organisation")
        .order_by("organisation__path", "name", "id")
        .iterator(chunk_size=CHUNK)
    )
    for service in services:
        yield _row(
            {
                "record_type": SERVICE,
                "id": service.slug,
                "name": service.name,
                "parent_id": service.organisation.slug,
                "ods_code": service.ods_code,
                "lgsl_id": service.lgsl_id,
                "description": service.description,
                "address": service.address,
                "postcode": service.postcode,
                "latitude": service.latitude,
                "longitude": service.longitude,
                "website": service.website,
                "email": service.email,
                "phone": service.phone,
                "active": service.is_active,
            }
        )


def directory_export_lines() -> Iterator[str]:
    """The export as lines of CSV text (for a streaming download or a file)."""
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    for row in directory_export_rows():
        writer.writerow(row)
        yield line.value


# The open data leaves out the contact email addresses and phone numbers: the directory's
# public pages do not show them (a small charity's contact is often one person's own).
OPEN_DATA_LEFT_OUT = ("email", "phone")


def directory_open_data_lines() -> Iterator[str]:
    """The public directory as lines of CSV: the export's columns without contact details."""
    kept = [index for index, column in enumerate(COLUMNS) if column not in OPEN_DATA_LEFT_OUT]
    line = _Line()
    writer = csv.writer(line, lineterminator="\r\n")
    for row in directory_export_rows():
        writer.writerow([row[index] for index in kept])
        yield line.value
