"""The coordinators' page for recording a helper's vetting (DBS check, references, training),
and the service behind it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.circles.models import DbsStatus, Helper
from localsocial.circles.selectors.help import helpers_rank_for_request
from localsocial.circles.services.help import match_propose
from localsocial.circles.services.helpers import (
    helper_is_vetted_for_home_visits,
    helper_vetting_update,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import HelpRequestFactory, coordinator_of
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def client_for(user):
    return sign_in_verified(CommittingClient(), user)


def url_for(helper: Helper) -> str:
    return f"/circles/southwark/help/helpers/{helper.pk}/vetting/"


def form_data(**overrides: str) -> dict[str, str]:
    today = timezone.localdate()
    data = {
        "dbs_status": "clear", "dbs_checked_on": (today - dt.timedelta(days=10)).isoformat(),
        "dbs_expires_on": (today + dt.timedelta(days=700)).isoformat(), "references_checked": "on",
        "training_completed_on": (today - dt.timedelta(days=5)).isoformat(), "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_page_shows_the_helpers_current_checks_and_is_linked_from_their_page(circle, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, display_name="Grace Hopper", dbs_status=DbsStatus.CLEAR,
                           dbs_checked_on=dt.date(2025, 1, 2), dbs_expires_on=dt.date(2030, 3, 4),
                           references_checked=False, training_completed_on=None)
    browser = client_for(coordinator)

    with django_assert_max_num_queries(12):
        response = browser.get(url_for(helper))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Grace Hopper: checks for home visits" in page
    assert 'value="clear" checked' in page
    assert 'value="2025-01-02"' in page
    assert 'value="2030-03-04"' in page
    assert 'name="references_checked" type="checkbox" value="on">' in page  # not ticked
    assert 'name="is_active" type="checkbox" value="on" checked>' in page
    assert url_for(helper) in browser.get(f"/circles/southwark/help/helpers/{helper.pk}/").content.decode()


def test_saving_updates_the_helper_and_records_who_changed_what(circle):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, dbs_status=DbsStatus.APPLIED, dbs_checked_on=None, dbs_expires_on=None,
                           references_checked=False, training_completed_on=None)
    data = form_data()

    response = client_for(coordinator).post(url_for(helper), data, follow=True)

    assert response.redirect_chain[-1][0] == f"/circles/southwark/help/helpers/{helper.pk}/"
    assert "Checks saved for" in response.content.decode()
    helper.refresh_from_db()
    assert helper.dbs_status == DbsStatus.CLEAR
    assert helper.dbs_checked_on.isoformat() == data["dbs_checked_on"]
    assert helper.dbs_expires_on.isoformat() == data["dbs_expires_on"]
    assert helper.references_checked is True
    assert helper.training_completed_on.isoformat() == data["training_completed_on"]
    assert helper_is_vetted_for_home_visits(helper=helper)
    event = AuditEvent.objects.get(action="circles.helper_vetting_update")
    assert event.actor == coordinator
    assert event.before["dbs_status"] == "applied"
    assert event.before["references_checked"] is False
    assert event.after["dbs_status"] == "clear"
    assert event.after["dbs_expires_on"] == data["dbs_expires_on"]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"dbs_checked_on": ""}, "Enter the day the DBS check was done"),
    ({"dbs_expires_on": ""}, "Enter the day the DBS check expires"),
    ({"dbs_expires_on": "2020-01-01"}, "The expiry day must be after the day the check was done"),
    ({"dbs_checked_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
     "The day the DBS check was done must be today or in the past"),
    ({"training_completed_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
     "The day training was completed must be today or in the past"),
    ({"dbs_checked_on": "31/02/2025"}, "Enter the day the DBS check was done as a real date"),
    ({"dbs_status": "maybe"}, "Choose the state of the DBS check"),
])
def test_bad_input_gets_a_clear_message_and_changes_nothing(circle, overrides, message):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, references_checked=False)
    before = Helper.objects.values().get(pk=helper.pk)

    response = client_for(coordinator).post(url_for(helper), form_data(references_checked="on", **overrides))

    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "<title>Error: " in page
    assert message in page
    assert Helper.objects.values().get(pk=helper.pk) == before
    assert not AuditEvent.objects.filter(action="circles.helper_vetting_update").exists()


def test_another_circles_coordinator_gets_404_and_the_service_refuses_them(circle):
    helper = HelperFactory(circle=circle, references_checked=False)
    stranger = coordinator_of(CircleFactory())
    browser = client_for(stranger)

    assert browser.get(url_for(helper)).status_code == 404
    assert browser.post(url_for(helper), form_data()).status_code == 404
    with pytest.raises(PermissionDenied):
        helper_vetting_update(helper=helper, actor=stranger, dbs_status="clear", dbs_checked_on=dt.date(2025, 1, 1),
                              dbs_expires_on=dt.date(2030, 1, 1), references_checked=True,
                              training_completed_on=dt.date(2025, 1, 1), is_active=True)
    with pytest.raises(PermissionDenied):
        helper_vetting_update(helper=helper, actor=helper.user, dbs_status="clear", dbs_checked_on=dt.date(2025, 1, 1),
                              dbs_expires_on=dt.date(2030, 1, 1), references_checked=True,
                              training_completed_on=dt.date(2025, 1, 1), is_active=True)
    helper.refresh_from_db()
    assert helper.references_checked is False


def test_the_service_says_what_is_wrong_and_saving_twice_is_harmless(circle):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle)
    with pytest.raises(ValidationError) as caught:
        helper_vetting_update(helper=helper, actor=coordinator, dbs_status="clear", dbs_checked_on=None,
                              dbs_expires_on=None, references_checked=True, training_completed_on=None,
                              is_active=True)
    assert set(caught.value.message_dict) == {"dbs_checked_on", "dbs_expires_on"}

    arguments = {"dbs_status": "none", "dbs_checked_on": None, "dbs_expires_on": None, "references_checked": True,
                 "training_completed_on": dt.date(2025, 6, 1), "is_active": True}
    helper_vetting_update(helper=helper, actor=coordinator, **arguments)
    helper_vetting_update(helper=helper, actor=coordinator, **arguments)

    helper.refresh_from_db()
    assert (helper.dbs_status, helper.dbs_checked_on, helper.dbs_expires_on) == ("none", None, None)


def test_after_recording_an_expired_dbs_the_helper_is_no_longer_offered_home_visits(circle):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, display_name="Grace Hopper")
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    assert helpers_rank_for_request(help_request=help_request)[0].eligible
    today = timezone.localdate()

    client_for(coordinator).post(url_for(helper), form_data(
        dbs_checked_on=(today - dt.timedelta(days=1100)).isoformat(),
        dbs_expires_on=(today - dt.timedelta(days=1)).isoformat(),
    ))

    helper.refresh_from_db()
    assert not helper_is_vetted_for_home_visits(helper=helper)
    candidate = helpers_rank_for_request(help_request=help_request)[0]
    assert candidate.helper == helper
    assert not candidate.eligible
    with pytest.raises(ValidationError):
        match_propose(help_request=help_request, helper=helper, actor=coordinator)
