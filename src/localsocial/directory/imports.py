"""Import the directory from CSV (the format in ``directory.csv_format``, docs/directory.md).

Two stages.  First every row is checked, and every problem is reported with its line
number: nothing is written from a file with problems unless ``skip_errors`` is set, and then
only the good rows (a row whose parent or organisation has a problem is itself reported).
Then, in one transaction, records are created or updated by their ``id`` with bulk queries:
importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.core.services import audit_record
from localsocial.directory.csv_format import (
    APPLIES_TO,
    AREA,
    AREA_SEPARATOR,
    COLUMNS,
    NO,
    ORGANISATION,
    RECORD_TYPES,
    REQUIRED_COLUMNS,
    SERVICE,
    YES,
    unprotect_cell,
)
from localsocial.directory.models import (
    CHARITY_RE,
    GSS_RE,
    MAX_DEPTH,
    ODS_RE,
    PATH_STEP,
    POSTCODE_RE,
    SLUG_RE,
    Area,
    Organisation,
    OrganisationType,
    Service,
    normalise_postcode,
    path_ids,
    path_segment,
)
from localsocial.directory.page_groups import directory_pages_changed

CHUNK = 2000
MAX_LGSL = 99999
SIX_PLACES = Decimal("0.000001")

_gss = re.compile(GSS_RE)
_ods = re.compile(ODS_RE)
_charity = re.compile(CHARITY_RE)
_postcode = re.compile(POSTCODE_RE)
_slug = re.compile(SLUG_RE)
_url = URLValidator()
_email = EmailValidator()

ORG_VALUE_FIELDS = [
    "name", "org_type", "ods_code", "gss_code", "charity_number", "description", "address",
    "postcode", "latitude", "longitude", "website", "email", "phone", "is_private_provider",
]
SERVICE_VALUE_FIELDS = [
    "name", "lgsl_id", "ods_code", "description", "address", "postcode", "latitude",
    "longitude", "website", "email", "phone", "is_active",
]
_TYPE_BY_NAME = {
    **{choice.value: choice.value for choice in OrganisationType},
    **{str(choice.label).lower(): choice.value for choice in OrganisationType},
}


@dataclass(frozen=True)
class RowError:
    line: int  # 0 for a problem with the whole file
    record_id: str
    message: str

    def __str__(self) -> str:
        where = _("Line %(line)s") % {"line": self.line} if self.line else _("The file")
        if self.record_id:
            where += f" ({self.record_id})"
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RECORD_TYPES, 0))
    rows: int = 0
    dry_run: bool = False
    imported: bool = False  # whether anything was (or, in a dry run, would be) written

    @property
    def lines_with_errors(self) -> int:
        return len({error.line for error in self.errors})

    def summary(self) -> str:
        parts = []
        for kind, label in ((AREA, _("areas")), (ORGANISATION, _("organisations")), (SERVICE, _("services"))):
            parts.append(
                _("%(label)s: %(created)s new, %(updated)s changed, %(unchanged)s unchanged")
                % {"label": label, "created": self.created[kind], "updated": self.updated[kind],
                   "unchanged": self.unchanged[kind]}
            )
        return "; ".join(parts)


@dataclass
class _Row:
    line: int
    record_type: str
    id: str
    values: dict[str, Any]
    parent: str = ""
    areas: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# --- Reading ----------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _FileError(
            _(
                "The file is not in UTF-8 (the first problem is on line %(line)s). Save it as "
                "“CSV UTF-8” and try again."
            )
            % {"line": line},
            line=line,
        ) from exc


class _FileError(Exception):
    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _FileError(
                _("The file is not valid CSV near line %(line)s: %(problem)s") % {"line": reader.line_num, "problem": exc},
                line=reader.line_num,
            ) from exc
        yield start, record
        start = reader.line_num + 1


# --- Checking one row -------------------------------------------------------------------------

def _text(row: _Row, raw: dict[str, str], column: str, max_length: int | None = None) -> str:
    value = " ".join(raw.get(column, "").split()) if column != "description" and column != "address" else raw.get(column, "").strip()
    if max_length is not None and len(value) > max_length:
        row.errors.append(
            _("%(column)s must be %(max)s characters or fewer") % {"column": column, "max": max_length}
        )
    return value


def _code(row: _Row, raw: dict[str, str], column: str, pattern: re.Pattern[str], example: str) -> str | None:
    value = "".join(raw.get(column, "").split()).upper()
    if not value:
        return None
    if not pattern.match(value):
        row.errors.append(
            _("%(column)s “%(value)s” is not valid (expected something like %(example)s)")
            % {"column": column, "value": raw[column].strip(), "example": example}
        )
    return value


def _coordinates(row: _Row, raw: dict[str, str]) -> tuple[Decimal | None, Decimal | None]:
    lat_text, lon_text = raw.get("latitude", "").strip(), raw.get("longitude", "").strip()
    if not lat_text and not lon_text:
        return None, None
    if not lat_text or not lon_text:
        row.errors.append(_("give both latitude and longitude, or neither"))
        return None, None
    result: list[Decimal | None] = []
    for column, text, limit in (("latitude", lat_text, 90), ("longitude", lon_text, 180)):
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            row.errors.append(_("%(column)s “%(value)s” is not a number") % {"column": column, "value": text})
            result.append(None)
        elif not -limit <= number <= limit:
            row.errors.append(
                _("%(column)s %(value)s is out of range (-%(limit)s to %(limit)s)")
                % {"column": column, "value": text, "limit": limit}
            )
            result.append(None)
        else:
            result.append(number.quantize(SIX_PLACES, rounding=ROUND_HALF_UP))
    return result[0], result[1]


def _boolean(row: _Row, raw: dict[str, str], column: str, default: bool) -> bool:
    value = raw.get(column, "").strip().lower()
    if not value:
        return default
    if value in {YES, "y", "true", "1"}:
        return True
    if value in {NO, "n", "false", "0"}:
        return False
    row.errors.append(_("%(column)s must be yes or no") % {"column": column})
    return default


def _contact(row: _Row, raw: dict[str, str]) -> dict[str, Any]:
    website = _text(row, raw, "website", 200)
    if website:
        try:
            _url(website)
        except ValidationError:
            row.errors.append(_("website “%(value)s” is not a full web address (https://…)") % {"value": website})
    email = _text(row, raw, "email", 254)
    if email:
        try:
            _email(email)
        except ValidationError:
            row.errors.append(_("email “%(value)s” is not an email address") % {"value": email})
    postcode = normalise_postcode(raw.get("postcode", ""))
    if postcode and not _postcode.match(postcode):
        row.errors.append(_("postcode “%(value)s” is not a full UK postcode") % {"value": raw["postcode"].strip()})
    latitude, longitude = _coordinates(row, raw)
    return {
        "description": _text(row, raw, "description"),
        "address": _text(row, raw, "address"),
        "postcode": postcode,
        "latitude": latitude,
        "longitude": longitude,
        "website": website,
        "email": email,
        "phone": _text(row, raw, "phone", 30),
    }


def _check_row(line: int, raw: dict[str, str]) -> _Row:
    record_type = raw.get("record_type", "").strip().lower()
    record_id = raw.get("id", "").strip()
    row = _Row(line=line, record_type=record_type, id=record_id, values={})
    if record_type not in RECORD_TYPES:
        row.errors.append(
            _("record_type “%(value)s” is not one of: area, organisation, service")
            % {"value": raw.get("record_type", "").strip()}
            if record_type
            else _("record_type is missing")
        )
        return row
    for column in COLUMNS:
        if raw.get(column, "").strip() and column not in APPLIES_TO[record_type]:
            row.errors.append(
                _("%(column)s does not apply to %(kind)s rows: leave it empty")
                % {"column": column, "kind": record_type}
            )
    name = _text(row, raw, "name", 200)
    if not name:
        row.errors.append(_("name is missing"))
    if not record_id:
        row.errors.append(_("id is missing"))
    if record_type == AREA:
        row.id = record_id.upper()
        if record_id and not _gss.match(row.id):
            row.errors.append(_("id of an area must be its GSS code, like E09000028 (got “%(value)s”)") % {"value": record_id})
        row.values = {"name": name, "area_type": _text(row, raw, "type", 50)}
        return row
    if record_id and (len(record_id) > 220 or not _slug.match(record_id)):
        row.errors.append(
            _("id “%(value)s” must be lower-case letters, numbers and single hyphens") % {"value": record_id}
        )
    row.parent = raw.get("parent_id", "").strip()
    contact = _contact(row, raw)
    ods_code = _code(row, raw, "ods_code", _ods, "RJ1")
    if record_type == ORGANISATION:
        type_text = raw.get("type", "").strip()
        org_type = _TYPE_BY_NAME.get(type_text.lower())
        if not type_text:
            row.errors.append(_("type is missing"))
        elif org_type is None:
            row.errors.append(
                _("type “%(value)s” is not one of: %(choices)s")
                % {"value": type_text, "choices": ", ".join(OrganisationType.values)}
            )
        charity = "".join(raw.get("charity_number", "").split()).upper()
        if charity and not _charity.match(charity):
            row.errors.append(_("charity_number “%(value)s” is not valid (like 1089464 or SC012345)") % {"value": charity})
        row.areas = []
        for code in raw.get("areas_served", "").split(AREA_SEPARATOR):
            code = code.strip().upper()
            if not code:
                continue
            if not _gss.match(code):
                row.errors.append(_("areas_served: “%(value)s” is not a GSS code") % {"value": code})
            elif code not in row.areas:
                row.areas.append(code)
        row.values = {
            "name": name,
            "org_type": org_type or "",
            "ods_code": ods_code,
            "gss_code": _code(row, raw, "gss_code", _gss, "E09000028"),
            "charity_number": charity,
            "is_private_provider": _boolean(row, raw, "private_provider", False),
            **contact,
        }
    else:
        if not row.parent:
            row.errors.append(_("parent_id is missing: give the id of the organisation that runs this service"))
        lgsl_text = raw.get("lgsl_id", "").strip()
        lgsl_id = None
        if lgsl_text:
            if lgsl_text.isdigit() and 1 <= int(lgsl_text) <= MAX_LGSL:
                lgsl_id = int(lgsl_text)
            else:
                row.errors.append(
                    _("lgsl_id “%(value)s” is not a Local Government Service List id (a whole number from 1 to %(max)s)")
                    % {"value": lgsl_text, "max": MAX_LGSL}
                )
        row.values = {
            "name": name,
            "lgsl_id": lgsl_id,
            "ods_code": ods_code,
            "is_active": _boolean(row, raw, "active", True),
            **contact,
        }
    return row


# --- Checking the rows together ---------------------------------------------------------------

def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _fetch(queryset: models.QuerySet[Any], lookup: str, values: Iterable[Any]) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(set(values)):
        found.extend(queryset.filter(**{f"{lookup}__in": chunk}))
    return found


@dataclass
class _Plan:
    rows: list[_Row]
    areas: dict[str, _Row]
    organisations: dict[str, _Row]
    services: dict[str, _Row]
    db_areas: dict[str, Area]
    db_organisations: dict[str, Organisation]  # by slug: in the file, or parents of rows in it
    db_services: dict[str, Service]
    final_depth: dict[str, int]


def _check_duplicates(rows: list[_Row]) -> None:
    seen: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.id:
            seen[(row.record_type, row.id)].append(row)
    for (kind, record_id), same in seen.items():
        if len(same) > 1:
            lines = ", ".join(str(r.line) for r in same)
            for row in same:
                row.errors.append(
                    _("the %(kind)s id “%(id)s” is used more than once in the file (lines %(lines)s)")
                    % {"kind": kind, "id": record_id, "lines": lines}
                )


def _check_unique_codes(rows: list[_Row], kind: str, column: str, model: type[models.Model]) -> None:
    """A code (ODS, GSS) is used once per kind of record: in the file and in the database."""
    by_code: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.record_type == kind and row.values.get(column):
            by_code[row.values[column]].append(row)
    for code, same in by_code.items():
        if len(same) > 1:
            lines = ", ".join(str(r.line) for r in same)
            for row in same:
                row.errors.append(
                    _("%(column)s %(code)s is used by more than one %(kind)s in the file (lines %(lines)s)")
                    % {"column": column, "code": code, "kind": kind, "lines": lines}
                )
    owners: dict[str, str] = {}
    for chunk in _chunks(by_code):
        owners.update(model._default_manager.filter(**{f"{column}__in": chunk}).values_list(column, "slug"))  # type: ignore[attr-defined]
    for code, slug in owners.items():
        for row in by_code[code]:
            if row.id != slug:
                row.errors.append(
                    _("%(column)s %(code)s already belongs to the %(kind)s “%(other)s”")
                    % {"column": column, "code": code, "kind": kind, "other": slug}
                )


def _plan(rows: list[_Row]) -> _Plan:
    _check_duplicates(rows)
    _check_unique_codes(rows, ORGANISATION, "ods_code", Organisation)
    _check_unique_codes(rows, ORGANISATION, "gss_code", Organisation)
    _check_unique_codes(rows, SERVICE, "ods_code", Service)

    def by_kind(kind: str) -> dict[str, _Row]:
        # Duplicated ids are already errors on every row that has them, so which one is kept
        # here does not matter: both are refused.
        return {row.id: row for row in rows if row.record_type == kind and row.id}

    areas, organisations, services = by_kind(AREA), by_kind(ORGANISATION), by_kind(SERVICE)

    # What the database already has, for every id the file mentions.
    area_codes = set(areas) | {code for row in organisations.values() for code in row.areas}
    db_areas = {a.gss_code: a for a in _fetch(Area.objects.all(), "gss_code", area_codes)}
    org_slugs = set(organisations) | {r.parent for r in organisations.values() if r.parent} | {
        r.parent for r in services.values() if r.parent
    }
    db_organisations = {o.slug: o for o in _fetch(Organisation.objects.all(), "slug", org_slugs)}
    db_services = {s.slug: s for s in _fetch(Service.objects.all(), "slug", services)}
    # The slugs of every organisation above those, to follow the tree through the database.
    above = {pk for org in db_organisations.values() for pk in path_ids(org.path)}
    slug_by_pk = {o.pk: o.slug for o in db_organisations.values()}
    missing = above - set(slug_by_pk)
    for chunk in _chunks(missing):
        slug_by_pk.update(Organisation.objects.filter(pk__in=chunk).values_list("pk", "slug"))

    for row in organisations.values():
        for code in row.areas:
            if code not in areas and code not in db_areas:
                row.errors.append(_("areas_served: there is no area %(code)s in the file or the directory") % {"code": code})
        if row.parent:
            if row.parent == row.id:
                row.errors.append(_("an organisation cannot be its own parent"))
            elif row.parent not in organisations and row.parent not in db_organisations:
                row.errors.append(
                    _("parent_id “%(parent)s” is not an organisation in the file or the directory") % {"parent": row.parent}
                )
    for row in services.values():
        if row.parent and row.parent not in organisations and row.parent not in db_organisations:
            row.errors.append(
                _("parent_id “%(parent)s” is not an organisation in the file or the directory") % {"parent": row.parent}
            )

    def parent_of(slug: str) -> str | None:
        """The organisation above ``slug`` once the file is imported."""
        if slug in organisations:
            return organisations[slug].parent or None
        org = db_organisations.get(slug)
        if org is None:
            return None
        ids = org.ancestor_ids
        return slug_by_pk.get(ids[-1]) if ids else None

    # Loops, and depth, following parents through the file and the database.
    final_depth: dict[str, int] = {}
    in_loop: set[str] = set()
    for start in organisations:
        chain: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in final_depth and node not in in_loop:
            if node in position:
                loop = chain[position[node]:]
                for member in loop:
                    in_loop.add(member)
                    if member in organisations:
                        organisations[member].errors.append(
                            _("the tree would have a loop: %(loop)s")
                            % {"loop": " → ".join([*loop[loop.index(member):], *loop[: loop.index(member)], member])}
                        )
                break
            position[node] = len(chain)
            chain.append(node)
            node = parent_of(node)
        base = -1 if node is None else final_depth.get(node)
        for member in reversed(chain):
            if member in in_loop:
                break
            if base is None:
                break
            base += 1
            final_depth[member] = base
        for member in chain:
            if member in organisations and final_depth.get(member, 0) > MAX_DEPTH:
                organisations[member].errors.append(
                    _("the tree would be more than %(levels)s levels deep here") % {"levels": MAX_DEPTH + 1}
                )
                final_depth.pop(member, None)

    for slug, row in organisations.items():
        if slug not in final_depth and slug not in in_loop and not row.errors:
            row.errors.append(_("an organisation above it is in a loop"))

    # A row whose organisation above has a problem cannot be imported either.
    bad_orgs = {slug for slug, row in organisations.items() if row.errors} | in_loop
    changed = True
    while changed:
        changed = False
        for slug, row in organisations.items():
            if slug in bad_orgs or not row.parent:
                continue
            if row.parent in bad_orgs:
                parent_row = organisations.get(row.parent)
                row.errors.append(
                    _("its parent “%(parent)s” (line %(line)s) has problems")
                    % {"parent": row.parent, "line": parent_row.line if parent_row else "?"}
                )
                bad_orgs.add(slug)
                changed = True
            elif row.parent not in organisations:
                # Below a database organisation that the file moves into trouble?
                ancestor = parent_of(row.parent)
                while ancestor is not None and ancestor not in organisations:
                    ancestor = parent_of(ancestor)
                if ancestor is not None and ancestor in bad_orgs:
                    row.errors.append(
                        _("the organisation above it, “%(parent)s”, has problems") % {"parent": ancestor}
                    )
                    bad_orgs.add(slug)
                    changed = True
    bad_areas = {code for code, row in areas.items() if row.errors}
    for row in organisations.values():
        if row.id in bad_orgs:
            continue
        bad = [code for code in row.areas if code in bad_areas]
        if bad:
            row.errors.append(_("areas_served: the area %(code)s has problems") % {"code": bad[0]})
    for row in services.values():
        if row.parent in bad_orgs:
            parent_row = organisations.get(row.parent)
            row.errors.append(
                _("its organisation “%(parent)s” (line %(line)s) has problems")
                % {"parent": row.parent, "line": parent_row.line if parent_row else "?"}
            )
    return _Plan(
        rows=rows, areas=areas, organisations=organisations, services=services, db_areas=db_areas,
        db_organisations=db_organisations, db_services=db_services, final_depth=final_depth,
    )


# --- Writing ----------------------------------------------------------------------------------

def _differs(instance: models.Model, values: dict[str, Any]) -> bool:
    return any(getattr(instance, name) != value for name, value in values.items())


def _write_areas(plan: _Plan, report: ImportReport) -> dict[str, int]:
    new, changed = [], []
    for code, row in plan.areas.items():
        if row.errors:
            continue
        existing = plan.db_areas.get(code)
        if existing is None:
            new.append(Area(gss_code=code, **row.values))
        elif _differs(existing, row.values):
            for name, value in row.values.items():
                setattr(existing, name, value)
            changed.append(existing)
        else:
            report.unchanged[AREA] += 1
    Area.objects.bulk_create(new, batch_size=500)
    Area.objects.bulk_update(changed, ["name", "area_type"], batch_size=500)
    report.created[AREA], report.updated[AREA] = len(new), len(changed)
    pk_by_code = {code: area.pk for code, area in plan.db_areas.items()}
    pk_by_code.update({area.gss_code: area.pk for area in new})
    return pk_by_code


def _write_organisations(plan: _Plan, report: ImportReport, area_pks: dict[str, int]) -> dict[str, int]:
    now = timezone.now()
    good = [row for row in plan.organisations.values() if not row.errors]
    good.sort(key=lambda row: plan.final_depth[row.id])
    new: list[Organisation] = []
    changed: list[Organisation] = []
    instances: dict[str, Organisation] = {}
    for row in good:
        existing = plan.db_organisations.get(row.id)
        if existing is None:
            org = Organisation(slug=row.id, created_at=now, updated_at=now, **row.values)
            new.append(org)
        else:
            org = existing
            if _differs(org, row.values):
                for name, value in row.values.items():
                    setattr(org, name, value)
                org.updated_at = now
                changed.append(org)
        instances[row.id] = org
    Organisation.objects.bulk_create(new, batch_size=500)
    pk_by_slug = {slug: org.pk for slug, org in plan.db_organisations.items()}
    pk_by_slug.update({org.slug: org.pk for org in new})

    # Parents, paths and depths, from the top down.  An organisation already in the
    # directory that moves takes its whole subtree with it (one UPDATE); the paths of the
    # new ones are written together at the end.
    moves: list[tuple[str, str]] = []

    def current_path(path: str) -> str:
        for old, new_prefix in moves:
            if path.startswith(old):
                path = new_prefix + path[len(old) :]
        return path

    new_paths: dict[str, str] = {}
    changed_slugs = {org.slug for org in changed}
    new_slugs = {org.slug for org in new}
    for row in good:
        org = instances[row.id]
        parent_pk = pk_by_slug[row.parent] if row.parent else None
        if row.parent:
            parent_path = new_paths.get(row.parent) or current_path(plan.db_organisations[row.parent].path)
        else:
            parent_path = ""
        path = parent_path + path_segment(org.pk)
        new_paths[row.id] = path
        if row.id in new_slugs:
            org.parent_id, org.path, org.depth = parent_pk, path, len(path) // PATH_STEP - 1
            continue
        was = current_path(org.path)
        if org.parent_id != parent_pk:
            org.parent_id = parent_pk
            if row.id not in changed_slugs:
                org.updated_at = now
                changed.append(org)
                changed_slugs.add(row.id)
        if was != path:
            Organisation.objects.filter(path__startswith=was).update(
                path=Concat(Value(path), Substr("path", len(was) + 1), output_field=models.CharField()),
                depth=F("depth") + (len(path) - len(was)) // PATH_STEP,
            )
            moves.append((was, path))
        org.path, org.depth = path, len(path) // PATH_STEP - 1
    Organisation.objects.bulk_update(changed, [*ORG_VALUE_FIELDS, "parent", "updated_at"], batch_size=500)
    Organisation.objects.bulk_update(new, ["parent", "path", "depth"], batch_size=500)
    report.created[ORGANISATION], report.updated[ORGANISATION] = len(new), len(changed)

    # Areas served: add and take away links so that each organisation has the file's list.
    through = Organisation.areas_served.through
    wanted = {(instances[row.id].pk, area_pks[code]) for row in good for code in row.areas}
    existing_pks = [instances[row.id].pk for row in good if row.id not in new_slugs]
    have: dict[tuple[int, int], int] = {}
    for chunk in _chunks(existing_pks):
        for link_pk, org_pk, area_pk in through.objects.filter(organisation_id__in=chunk).values_list(
            "pk", "organisation_id", "area_id"
        ):
            have[(org_pk, area_pk)] = link_pk
    remove = [link_pk for key, link_pk in have.items() if key not in wanted]
    for chunk in _chunks(remove):
        through.objects.filter(pk__in=chunk).delete()
    through.objects.bulk_create(
        [through(organisation_id=o, area_id=a) for o, a in sorted(wanted - set(have))], batch_size=1000
    )
    areas_changed = {o for o, _a in wanted - set(have)} | {key[0] for key, pk in have.items() if pk in set(remove)}
    for row in good:
        org = instances[row.id]
        if row.id not in new_slugs and row.id not in changed_slugs and org.pk in areas_changed:
            report.updated[ORGANISATION] += 1
            changed_slugs.add(row.id)
    report.unchanged[ORGANISATION] = len(good) - report.created[ORGANISATION] - report.updated[ORGANISATION]
    return pk_by_slug


def _write_services(plan: _Plan, report: ImportReport, org_pks: dict[str, int]) -> None:
    now = timezone.now()
    new, changed = [], []
    for slug, row in plan.services.items():
        if row.errors:
            continue
        values = {**row.values, "organisation_id": org_pks[row.parent]}
        existing = plan.db_services.get(slug)
        if existing is None:
            new.append(Service(slug=slug, created_at=now, updated_at=now, **values))
        elif _differs(existing, values):
            for name, value in values.items():
                setattr(existing, name, value)
            existing.updated_at = now
            changed.append(existing)
        else:
            report.unchanged[SERVICE] += 1
    Service.objects.bulk_create(new, batch_size=500)
    Service.objects.bulk_update(changed, [*SERVICE_VALUE_FIELDS, "organisation", "updated_at"], batch_size=500)
    report.created[SERVICE], report.updated[SERVICE] = len(new), len(changed)


# --- The service ------------------------------------------------------------------------------

def directory_import(
    *, data: bytes, skip_errors: bool = False, dry_run: bool = False, actor: User | None = None
) -> ImportReport:
    """Check every row of a directory CSV file and, if all are good (or ``skip_errors``),
    create or update the areas, organisations and services in it in one transaction.

    Returns a report: every problem with its line number, and how many records were
    created, changed and left as they were.  With ``dry_run`` the same work is done and
    then rolled back.  Importing the same file twice changes nothing the second time."""
    report = ImportReport(dry_run=dry_run)
    try:
        text = _decode(data)
        records = _records(text)
        header_line, header = next(records, (1, []))
        header = [name.strip().lower() for name in header]
        if not any(header):
            raise _FileError(_("The file is empty: the first line must name the columns."), line=1)
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in REQUIRED_COLUMNS if name not in header]
        repeated = sorted({name for name in header if header.count(name) > 1})
        problems = []
        if missing:
            problems.append(_("these columns are missing: %(names)s") % {"names": ", ".join(missing)})
        if unknown:
            problems.append(_("these columns are not in the format: %(names)s") % {"names": ", ".join(unknown)})
        if repeated:
            problems.append(_("these columns appear twice: %(names)s") % {"names": ", ".join(repeated)})
        if problems:
            raise _FileError("; ".join(problems), line=header_line)
        rows: list[_Row] = []
        for line, record in records:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                row = _Row(line=line, record_type="", id="", values={})
                row.errors.append(
                    _("has %(found)s values but the first line names %(expected)s columns")
                    % {"found": len(record), "expected": len(header)}
                )
                rows.append(row)
                continue
            raw = {name: unprotect_cell(value) for name, value in zip(header, record, strict=True)}
            rows.append(_check_row(line, raw))
    except _FileError as exc:
        report.errors.append(RowError(line=exc.line, record_id="", message=str(exc)))
        return report
    report.rows = len(rows)
    plan = _plan(rows)
    report.errors = sorted(
        (RowError(line=row.line, record_id=row.id, message=message) for row in rows for message in row.errors),
        key=lambda error: error.line,
    )
    if report.errors and not skip_errors:
        return report
    with transaction.atomic():
        area_pks = _write_areas(plan, report)
        org_pks = _write_organisations(plan, report, area_pks)
        _write_services(plan, report, org_pks)
        report.imported = True
        written = sum(report.created.values()) + sum(report.updated.values())
        if dry_run:
            transaction.set_rollback(True)
        elif written:
            audit_record(
                actor=actor, action="directory.import",
                after={"created": report.created, "updated": report.updated,
                       "unchanged": report.unchanged, "rows_with_errors": report.lines_with_errors},
            )
            directory_pages_changed()
    return report
