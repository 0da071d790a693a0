"""Postcode locations: loading the ONS Postcode Directory (or a simple CSV) with
``localsocial postcodes_load``, and finding where a postcode is."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from localsocial.directory.models import Postcode
from localsocial.directory.postcodes import DEMO_POSTCODES, postcodes_load, postcodes_load_file
from localsocial.directory.selectors import postcode_locate

pytestmark = pytest.mark.django_db

ONSPD = (
    "pcd,pcd2,pcds,dointr,doterm,oscty,ced,oslaua,osward,lat,long\n"
    "SE1 7PB,SE1  7PB,SE1 7PB,198001,,E99999999,E99999999,E09000028,E05011095,51.498800,-0.111600\n"
    "SE5 8QY,SE5  8QY,SE5 8QY,198001,,E99999999,E99999999,E09000028,E05011098,51.474100,-0.092500\n"
    "IP121AA,IP12 1AA,IP12 1AA,198001,200512,E10000029,E58001455,E07000244,E05012740,52.093700,1.318600\n"
    "GY1 1AA,GY1  1AA,GY1 1AA,198001,,L99999999,L99999999,L99999999,L99999999,49.455000,-2.536000\n"
    "ZZ9 9ZZ,ZZ9  9ZZ,ZZ9 9ZZ,198001,,E99999999,E99999999,E09000028,E05011095,99.999999,0.000000\n"
)


def load(tmp_path, text: str, *args: str) -> tuple[str, str]:
    path = tmp_path / "postcodes.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("postcodes_load", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_onspd_file_is_loaded_with_its_local_authority_and_end_date(tmp_path):
    # Given an extract of the ONS Postcode Directory
    # When it is loaded
    out, err = load(tmp_path, ONSPD)

    # Then each postcode with a location is stored, and the one ONSPD cannot place is skipped
    assert "5 row(s) read: 4 loaded (4 new, 0 updated), 1 without a location skipped, 0 rejected." in out
    assert err == ""
    woodbridge = Postcode.objects.get(postcode="IP12 1AA")
    assert (woodbridge.latitude, woodbridge.longitude) == (52.0937, 1.3186)
    assert woodbridge.local_authority_gss == "E07000244"
    assert woodbridge.terminated_on == dt.date(2005, 12, 1)
    assert Postcode.objects.get(postcode="GY1 1AA").local_authority_gss == ""
    assert not Postcode.objects.filter(postcode="ZZ9 9ZZ").exists()


def test_loading_again_updates_in_place(tmp_path):
    # Given postcodes already loaded
    load(tmp_path, ONSPD)

    # When a newer edition moves one postcode and is loaded again
    out, _err = load(tmp_path, ONSPD.replace("51.474100,-0.092500", "51.474200,-0.092600"))

    # Then nothing is duplicated and the moved postcode has its new place
    assert "4 loaded (0 new, 4 updated)" in out
    assert Postcode.objects.count() == 4
    assert postcode_locate("SE5 8QY") == (51.4742, -0.0926)


def test_the_simple_header_is_accepted_and_written_in_small_batches(tmp_path):
    # Given a simple CSV with more rows than a batch, one postcode twice
    rows = ["Postcode,Latitude,Longitude", "se1 7pb,51.5,-0.1", "SE5 8QY,51.47,-0.09", "IP12 1AA,52.09,1.31",
            "SE1 7PB,51.4988,-0.1116"]

    # When it is loaded two rows at a time
    out, _err = load(tmp_path, "\n".join(rows) + "\n", "--batch-size", "2")

    # Then every postcode is there once, the later row winning
    assert "4 row(s) read" in out
    assert Postcode.objects.count() == 3
    assert postcode_locate("SE1 7PB") == (51.4988, -0.1116)


def test_bad_rows_are_rejected_with_their_line_numbers_and_the_good_ones_load(tmp_path):
    # Given a file with mistakes on lines 3, 4, 5 and 6
    text = (
        "postcode,latitude,longitude,\n"
        "SE1 7PB,51.4988,-0.1116,\n"
        "SE1,51.5,-0.1,\n"
        "SE5 8QY,north,-0.09,\n"
        "IP12 1AA,152.09,1.31,\n"
        ",,,\n"
    )

    # When it is loaded
    out, err = load(tmp_path, text)

    # Then the good row is loaded and each bad one is named by its line
    assert "5 row(s) read: 1 loaded (1 new, 0 updated), 0 without a location skipped, 4 rejected." in out
    assert "Line 3: 'SE1' is not a full UK postcode." in err
    assert "Line 4: SE5 8QY: the latitude and longitude must be numbers" in err
    assert "Line 5: IP12 1AA: the latitude and longitude must be numbers" in err
    assert "Line 6: '(empty)' is not a full UK postcode." in err
    assert list(Postcode.objects.values_list("postcode", flat=True)) == ["SE1 7PB"]


def test_an_onspd_row_with_a_bad_code_or_date_is_rejected(tmp_path):
    text = ONSPD.replace("E07000244", "Suffolk").replace(",,E99999999,E99999999,E09000028,E05011098", ",2020,E99999999,E99999999,E09000028,E05011098")

    out, err = load(tmp_path, text)

    assert "2 rejected" in out
    assert "Line 4: IP12 1AA: 'SUFFOLK' is not an ONS GSS code like E09000028." in err
    assert "Line 3: SE5 8QY: '2020' is not a month like 202001." in err


def test_a_file_with_the_wrong_columns_is_refused_and_nothing_is_loaded(tmp_path):
    with pytest.raises(CommandError, match="The first line must name the columns"):
        load(tmp_path, "name,lat,lng\nSE1 7PB,51.5,-0.1\n")

    assert Postcode.objects.count() == 0


def test_a_file_with_no_good_rows_fails(tmp_path):
    with pytest.raises(CommandError, match="No postcodes were loaded"):
        load(tmp_path, "postcode,latitude,longitude\nnowhere,1,1\n")


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="There is no file at"):
        call_command("postcodes_load", str(tmp_path / "absent.csv"))


@pytest.mark.parametrize("written", ["SE1 7PB", "se17pb", " se1  7pb "])
def test_a_postcode_is_located_however_it_is_written(written):
    postcodes_load(lines=["postcode,latitude,longitude", "SE1 7PB,51.4988,-0.1116"])

    assert postcode_locate(written) == (51.4988, -0.1116)


@pytest.mark.parametrize("postcode", ["SE5 8QY", "SE1", "", "not a postcode"])
def test_an_unknown_or_partial_postcode_has_no_location(postcode, django_assert_max_num_queries):
    postcodes_load(lines=["postcode,latitude,longitude", "SE1 7PB,51.4988,-0.1116"])

    with django_assert_max_num_queries(1):
        assert postcode_locate(postcode) is None


def test_the_database_refuses_a_badly_written_postcode():
    with pytest.raises(IntegrityError), transaction.atomic():
        Postcode.objects.create(postcode="se1 7pb", latitude=51.5, longitude=-0.1)


def test_the_demo_postcodes_cover_the_demo_members():
    report = postcodes_load_file(DEMO_POSTCODES)

    assert report.error_count == 0
    for postcode in ("SE1 7EH", "SE5 8QY", "IP12 1AA"):
        assert postcode_locate(postcode) is not None
