"""CSV import and export of the directory: every bad row reported, all or nothing, round trip."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from localsocial.accounts.models import SiteRole
from localsocial.core.models import AuditEvent
from localsocial.directory.csv_format import COLUMNS
from localsocial.directory.exports import directory_export_lines
from localsocial.directory.imports import directory_import
from localsocial.directory.models import Area, Organisation, Service, StaffRole
from tests.factories import (
    AreaFactory,
    MembershipFactory,
    OrganisationFactory,
    RoleGrantFactory,
    UserFactory,
)
from tests.helpers import sign_in_verified

pytestmark = pytest.mark.django_db


def make_csv(rows: list[dict[str, str]], columns: list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


GOOD_ROWS = [
    {"record_type": "area", "id": "E09000028", "name": "Southwark", "type": "London borough"},
    {"record_type": "organisation", "id": "riverside-trust", "name": "Riverside NHS Trust", "type": "nhs_trust",
     "ods_code": "RJ1", "areas_served": "E09000028", "website": "https://riverside.example.org"},
    {"record_type": "organisation", "id": "riverside-general", "name": "Riverside General Hospital", "type": "Hospital",
     "parent_id": "riverside-trust", "ods_code": "rj122", "postcode": "se1 7eh", "latitude": "51.4987",
     "longitude": "-0.1181", "address": "1 River Road\nNorthgate"},
    {"record_type": "organisation", "id": "riverside-maternity", "name": "Maternity", "type": "department",
     "parent_id": "riverside-general"},
    {"record_type": "service", "id": "antenatal", "name": "Antenatal clinic", "parent_id": "riverside-maternity",
     "lgsl_id": "", "phone": "020 7946 0000", "description": "=Formula-looking text"},
    {"record_type": "service", "id": "bins", "name": "Bin collection", "parent_id": "riverside-trust", "lgsl_id": "524",
     "active": "no"},
]


def test_a_good_file_imports_areas_organisations_and_services_in_a_tree():
    report = directory_import(data=make_csv(GOOD_ROWS))
    assert report.errors == []
    assert report.created == {"area": 1, "organisation": 3, "service": 2}
    trust = Organisation.objects.get(slug="riverside-trust")
    hospital = Organisation.objects.get(slug="riverside-general")
    maternity = Organisation.objects.get(slug="riverside-maternity")
    assert hospital.parent == trust
    assert maternity.parent == hospital
    assert maternity.path == f"{trust.pk:010d}.{hospital.pk:010d}.{maternity.pk:010d}."
    assert maternity.depth == 2
    assert (hospital.ods_code, hospital.postcode, hospital.org_type) == ("RJ122", "SE1 7EH", "hospital")
    assert hospital.latitude == Decimal("51.498700")
    assert hospital.address == "1 River Road\nNorthgate"
    assert [a.gss_code for a in trust.areas_served.all()] == ["E09000028"]
    bins = Service.objects.get(slug="bins")
    assert (bins.lgsl_id, bins.is_active, bins.organisation) == (524, False, trust)
    assert Service.objects.get(slug="antenatal").description == "=Formula-looking text"
    assert AuditEvent.objects.filter(action="directory.import").count() == 1


def test_importing_the_same_file_again_changes_nothing():
    data = make_csv(GOOD_ROWS)
    directory_import(data=data)
    snapshot = list(Organisation.objects.values()) + list(Service.objects.values()) + list(Area.objects.values())
    report = directory_import(data=data)
    assert report.errors == []
    assert report.created == {"area": 0, "organisation": 0, "service": 0}
    assert report.updated == {"area": 0, "organisation": 0, "service": 0}
    assert report.unchanged == {"area": 1, "organisation": 3, "service": 2}
    after = list(Organisation.objects.values()) + list(Service.objects.values()) + list(Area.objects.values())
    assert after == snapshot
    assert AuditEvent.objects.filter(action="directory.import").count() == 1


def test_a_changed_file_updates_records_and_moves_subtrees():
    directory_import(data=make_csv(GOOD_ROWS))
    council = OrganisationFactory(name="Northgate Council", slug="northgate-council")
    # A database-only child of the hospital, to be carried along by the move
    ward = OrganisationFactory(name="Ward 1", slug="ward-1", parent=Organisation.objects.get(slug="riverside-general"))
    rows = [dict(row) for row in GOOD_ROWS]
    rows[2]["parent_id"] = "northgate-council"
    rows[2]["name"] = "Northgate General Hospital"
    rows[1]["areas_served"] = ""
    report = directory_import(data=make_csv(rows))
    assert report.errors == []
    assert report.updated["organisation"] == 2
    hospital = Organisation.objects.get(slug="riverside-general")
    assert hospital.name == "Northgate General Hospital"
    assert hospital.parent == council
    ward.refresh_from_db()
    maternity = Organisation.objects.get(slug="riverside-maternity")
    for org in (hospital, ward, maternity):
        assert org.path.startswith(council.path)
        assert len(org.path) == (org.depth + 1) * 11
    assert maternity.depth == 2
    assert ward.depth == 2
    assert not Organisation.objects.get(slug="riverside-trust").areas_served.exists()


BAD_ROWS = [
    # line 2: fine
    {"record_type": "organisation", "id": "good-org", "name": "Good", "type": "council"},
    # 3: missing name and type
    {"record_type": "organisation", "id": "no-name", "name": "", "type": ""},
    # 4: bad ODS code
    {"record_type": "organisation", "id": "bad-ods", "name": "Bad ODS", "type": "nhs_trust", "ods_code": "R!1"},
    # 5: bad GSS code
    {"record_type": "organisation", "id": "bad-gss", "name": "Bad GSS", "type": "council", "gss_code": "X12"},
    # 6: unknown parent
    {"record_type": "organisation", "id": "orphan", "name": "Orphan", "type": "council", "parent_id": "nowhere"},
    # 7 and 8: a loop
    {"record_type": "organisation", "id": "loop-a", "name": "Loop A", "type": "council", "parent_id": "loop-b"},
    {"record_type": "organisation", "id": "loop-b", "name": "Loop B", "type": "council", "parent_id": "loop-a"},
    # 9 and 10: the same id twice
    {"record_type": "organisation", "id": "twice", "name": "Twice 1", "type": "council"},
    {"record_type": "organisation", "id": "twice", "name": "Twice 2", "type": "council"},
    # 11: bad coordinates
    {"record_type": "organisation", "id": "bad-place", "name": "Bad place", "type": "council", "latitude": "95",
     "longitude": "east"},
    # 12: bad LGSL id
    {"record_type": "service", "id": "bad-lgsl", "name": "Bad LGSL", "parent_id": "good-org", "lgsl_id": "12a"},
    # 13: unknown type
    {"record_type": "organisation", "id": "bad-type", "name": "Bad type", "type": "spaceship"},
    # 14: unknown record type
    {"record_type": "widget", "id": "what", "name": "What"},
    # 15: a child of a bad row
    {"record_type": "service", "id": "under-bad", "name": "Under bad", "parent_id": "bad-ods"},
    # 16: an ODS code already in the database for another organisation
    {"record_type": "organisation", "id": "clash", "name": "Clash", "type": "nhs_trust", "ods_code": "RXX"},
    # 17: a bad id and postcode, a website that is not one, and a column that does not apply
    {"record_type": "organisation", "id": "Bad Id", "name": "Bad id", "type": "council", "postcode": "nowhere",
     "website": "not a website", "lgsl_id": "5"},
]


def test_a_file_of_bad_rows_reports_every_problem_and_imports_nothing():
    OrganisationFactory(slug="existing", ods_code="RXX")
    before = Organisation.objects.count()
    report = directory_import(data=make_csv(BAD_ROWS))
    by_line: dict[int, str] = {}
    for error in report.errors:
        by_line[error.line] = by_line.get(error.line, "") + " | " + error.message
    assert 2 not in by_line
    expected = {
        3: ["name is missing", "type is missing"],
        4: ["ods_code “R!1” is not valid"],
        5: ["gss_code “X12” is not valid"],
        6: ["parent_id “nowhere” is not an organisation"],
        7: ["loop"],
        8: ["loop"],
        9: ["used more than once in the file (lines 9, 10)"],
        10: ["used more than once"],
        11: ["latitude 95 is out of range", "longitude “east” is not a number"],
        12: ["lgsl_id “12a” is not a Local Government Service List id"],
        13: ["type “spaceship” is not one of"],
        14: ["record_type “widget” is not one of"],
        15: ["its organisation “bad-ods” (line 4) has problems"],
        16: ["ods_code RXX already belongs to the organisation “existing”"],
        17: ["id “Bad Id” must be", "postcode “nowhere” is not a full UK postcode", "website “not a website”",
             "lgsl_id does not apply to organisation rows"],
    }
    for line, messages in expected.items():
        for message in messages:
            assert message in by_line.get(line, ""), (line, message, by_line.get(line))
    assert report.imported is False
    assert Organisation.objects.count() == before
    assert not Service.objects.exists()


def test_with_skip_errors_the_good_rows_are_imported_and_the_bad_reported():
    report = directory_import(data=make_csv(BAD_ROWS), skip_errors=True)
    assert report.imported is True
    assert report.errors
    assert set(Organisation.objects.values_list("slug", flat=True)) == {"good-org", "clash"}
    assert not Service.objects.exists()


def test_a_row_below_a_bad_row_is_reported_too_and_not_imported():
    rows = [
        {"record_type": "organisation", "id": "top", "name": "Top", "type": "council", "gss_code": "bad"},
        {"record_type": "organisation", "id": "middle", "name": "Middle", "type": "directorate", "parent_id": "top"},
        {"record_type": "organisation", "id": "bottom", "name": "Bottom", "type": "service_team", "parent_id": "middle"},
        {"record_type": "organisation", "id": "fine", "name": "Fine", "type": "council"},
    ]
    report = directory_import(data=make_csv(rows), skip_errors=True)
    lines = {error.line: error.message for error in report.errors}
    assert "parent “top” (line 2) has problems" in lines[3]
    assert "parent “middle” (line 3) has problems" in lines[4]
    assert list(Organisation.objects.values_list("slug", flat=True)) == ["fine"]


def test_a_loop_through_the_database_is_found():
    # top → child in the database; the file puts top under child.
    top = OrganisationFactory(slug="top")
    OrganisationFactory(slug="child", parent=top)
    rows = [{"record_type": "organisation", "id": "top", "name": "Top", "type": "council", "parent_id": "child"}]
    report = directory_import(data=make_csv(rows))
    assert "the tree would have a loop: top → child → top" in report.errors[0].message


def test_a_file_not_in_utf8_is_reported_clearly():
    data = "record_type,id,name,type\norganisation,caf\xe9,Café,council\n".encode("latin-1")
    report = directory_import(data=data)
    assert len(report.errors) == 1
    assert "not in UTF-8" in report.errors[0].message
    assert report.errors[0].line == 2
    assert not Organisation.objects.exists()


def test_a_utf8_byte_order_mark_is_accepted():
    data = "\ufeffrecord_type,id,name,type\norganisation,caerdydd,\"Cyngor Caerdydd, Tŵr\",council\n".encode()
    report = directory_import(data=data)
    assert report.errors == []
    assert Organisation.objects.get(slug="caerdydd").name == "Cyngor Caerdydd, Tŵr"


def test_missing_and_unknown_columns_are_reported():
    report = directory_import(data=b"record_type,name,colour\norganisation,X,red\n")
    assert "these columns are missing: id" in report.errors[0].message
    assert "these columns are not in the format: colour" in report.errors[0].message


def test_a_row_with_the_wrong_number_of_values_is_reported():
    report = directory_import(data=b"record_type,id,name,type\norganisation,a,A\n")
    assert "has 3 values but the first line names 4 columns" in report.errors[0].message


def test_a_dry_run_checks_and_counts_but_writes_nothing():
    report = directory_import(data=make_csv(GOOD_ROWS), dry_run=True)
    assert report.errors == []
    assert report.imported
    assert report.created["organisation"] == 3
    assert not Organisation.objects.exists()
    assert not Area.objects.exists()
    assert not AuditEvent.objects.exists()


def test_export_then_import_round_trips():
    directory_import(data=make_csv(GOOD_ROWS))
    OrganisationFactory(name="Plus, a comma \"and quotes\"", slug="punctuation", description="Line one\nLine two")
    exported = "".join(directory_export_lines()).encode()
    # Into an empty directory...
    Service.objects.all().delete()
    for org in Organisation.objects.order_by("-depth"):
        org.delete()
    Area.objects.all().delete()
    report = directory_import(data=exported)
    assert report.errors == []
    assert report.created == {"area": 1, "organisation": 4, "service": 2}
    # ...and out again, the same file.
    assert "".join(directory_export_lines()).encode() == exported
    # Formula-looking text is protected in the file and restored on import.
    assert "'=Formula-looking text" in exported.decode()
    assert Service.objects.get(slug="antenatal").description == "=Formula-looking text"


def test_the_commands_import_and_export(tmp_path: Path):
    source = tmp_path / "directory.csv"
    source.write_bytes(make_csv(GOOD_ROWS))
    out = io.StringIO()
    call_command("directory_import", str(source), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "dry run" in out.getvalue()
    assert not Organisation.objects.exists()
    call_command("directory_import", str(source), stdout=out, stderr=io.StringIO())
    assert Organisation.objects.count() == 3
    target = tmp_path / "export.csv"
    call_command("directory_export", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    written = target.read_bytes().decode("utf-8")
    assert written.splitlines()[0] == ",".join(COLUMNS)
    assert written.count("\r\n") == 1 + 1 + 3 + 2  # header, area, organisations, services
    stdout = io.StringIO()
    call_command("directory_export", stdout=stdout)
    assert stdout.getvalue() == written


def test_the_import_command_fails_on_a_bad_file_and_lists_each_problem(tmp_path: Path):
    source = tmp_path / "bad.csv"
    source.write_bytes(make_csv(BAD_ROWS))
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("directory_import", str(source), stdout=io.StringIO(), stderr=err)
    assert "Line 4 (bad-ods): ods_code" in err.getvalue()
    call_command("directory_import", str(source), "--skip-errors", stdout=io.StringIO(), stderr=io.StringIO())
    assert Organisation.objects.filter(slug="good-org").exists()


def test_ten_thousand_rows_import_whole_and_again_change_nothing():
    # Its speed is measured in bench/, not here: a timing assertion fails on a busy machine.
    rows = [{"record_type": "area", "id": f"E{n:08d}", "name": f"Area {n}"} for n in range(100)]
    for t in range(100):
        rows.append({"record_type": "organisation", "id": f"trust-{t}", "name": f"Trust {t}", "type": "nhs_trust",
                     "areas_served": f"E{t:08d}"})
        for h in range(19):
            rows.append({"record_type": "organisation", "id": f"trust-{t}-unit-{h}", "name": f"Unit {t}-{h}",
                         "type": "department", "parent_id": f"trust-{t}", "postcode": "SE1 7EH",
                         "latitude": "51.5", "longitude": "-0.1"})
    for s in range(8000):
        rows.append({"record_type": "service", "id": f"service-{s}", "name": f"Service {s}",
                     "parent_id": f"trust-{s % 100}-unit-{s % 19}", "lgsl_id": str(1 + s % 1500)})
    data = make_csv(rows)
    report = directory_import(data=data)
    assert report.errors == []
    assert report.created == {"area": 100, "organisation": 2000, "service": 8000}
    again = directory_import(data=data)
    assert sum(again.updated.values()) == 0
    assert sum(again.created.values()) == 0


# --- The upload page --------------------------------------------------------------------------

def _site_admin():
    admin = UserFactory()
    RoleGrantFactory(user=admin, role=SiteRole.SITE_ADMIN)
    return admin


def _upload(name: str, content: bytes, content_type: str = "text/csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_upload_page_imports_a_file_for_a_site_admin(client):
    sign_in_verified(client, _site_admin())
    response = client.post(reverse("directory:import"), {"file": _upload("directory.csv", make_csv(GOOD_ROWS))})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Import complete" in html
    assert "organisations: 3 new" in html
    assert Organisation.objects.count() == 3
    assert AuditEvent.objects.get(action="directory.import").actor is not None


def test_the_upload_page_shows_each_problem_and_imports_nothing(client):
    sign_in_verified(client, _site_admin())
    html = client.post(reverse("directory:import"), {"file": _upload("bad.csv", make_csv(BAD_ROWS))}).content.decode()
    assert "Nothing was imported" in html
    assert "ods_code “R!1” is not valid" in html
    assert not Organisation.objects.exists()


def test_the_upload_page_refuses_non_admins(client, tree):
    before = Organisation.objects.count()
    assert client.get(reverse("directory:import")).status_code == 302  # to sign in
    admin_of_org = MembershipFactory(organisation=tree.trust, role=StaffRole.ADMINISTRATOR).user
    sign_in_verified(client, admin_of_org)
    assert client.get(reverse("directory:import")).status_code == 403
    response = client.post(reverse("directory:import"), {"file": _upload("directory.csv", make_csv(GOOD_ROWS))})
    assert response.status_code == 403
    assert client.get(reverse("directory:export")).status_code == 403
    assert Organisation.objects.count() == before


def test_the_upload_page_refuses_oversize_and_non_csv_files(client, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    sign_in_verified(client, _site_admin())
    big = make_csv([{"record_type": "area", "id": f"E{n:08d}", "name": "x" * 50} for n in range(40)])
    response = client.post(reverse("directory:import"), {"file": _upload("big.csv", big)})
    assert response.status_code == 400
    assert "The selected file must be smaller than" in response.content.decode()
    response = client.post(reverse("directory:import"), {"file": _upload("photo.png", b"\x89PNG\r\n\x1a\n", "image/png")})
    assert "The selected file must be a CSV" in response.content.decode()
    response = client.post(reverse("directory:import"), {"file": _upload("sneaky.csv", b"\x89PNG\x00\x00", "text/csv")})
    assert "The selected file must be a CSV" in response.content.decode()
    response = client.post(reverse("directory:import"), {})
    assert "Select a CSV file" in response.content.decode()
    assert not Area.objects.exists()


def test_site_admins_can_download_the_export(client):
    directory_import(data=make_csv(GOOD_ROWS))
    sign_in_verified(client, _site_admin())
    response = client.get(reverse("directory:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "riverside-general" in body


def test_an_area_in_the_file_can_be_updated():
    AreaFactory(gss_code="E09000028", name="Old name")
    report = directory_import(data=make_csv(GOOD_ROWS[:1]))
    assert report.updated["area"] == 1
    assert Area.objects.get(gss_code="E09000028").name == "Southwark"
