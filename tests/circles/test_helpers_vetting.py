"""Vetting: an unvetted or expired helper is never offered, never accepts and never checks in
to a visit in someone's home; and a member can become a helper, which is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from localsocial.circles.models import (
    DbsStatus,
    Helper,
    HelperKind,
    HelperTransition,
    HelpPlace,
    Match,
    MatchStatus,
    RequestStatus,
    Visit,
)
from localsocial.circles.selectors.help import helper_vetting_problems
from localsocial.circles.services.help import match_propose, match_respond, visit_check_in
from localsocial.circles.services.helpers import (
    helper_is_vetted_for_home_visits,
    member_become_helper,
)
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import (
    HelpRequestFactory,
    coordinator_of,
    in_days,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 3, 10)


def helper_with(**fields):
    """An unsaved helper: clear DBS to the end of the year, references and training done."""
    values = {
        "kind": HelperKind.VOLUNTEER, "display_name": "Sam", "dbs_status": DbsStatus.CLEAR,
        "dbs_checked_on": dt.date(2026, 1, 1), "dbs_expires_on": dt.date(2027, 12, 31),
        "references_checked": True, "training_completed_on": dt.date(2026, 2, 1), "is_active": True,
    }
    values.update(fields)
    return Helper(**values)


def test_a_helper_with_every_check_done_is_vetted():
    assert helper_is_vetted_for_home_visits(helper=helper_with(), on=TODAY)


@pytest.mark.parametrize(("fields", "problem"), [
    ({"dbs_status": DbsStatus.NONE}, "has no clear DBS check"),
    ({"dbs_status": DbsStatus.APPLIED}, "has no clear DBS check"),
    ({"dbs_status": DbsStatus.REVIEW}, "has no clear DBS check"),
    ({"dbs_expires_on": dt.date(2027, 3, 9)}, "DBS check expires on 09/03/2027"),
    ({"dbs_expires_on": TODAY}, "DBS check expires on 10/03/2027"),
    ({"references_checked": False}, "references not checked"),
    ({"training_completed_on": None}, "induction training not done"),
    ({"training_completed_on": dt.date(2027, 3, 11)}, "induction training not done"),
    ({"is_active": False}, "is not an active helper"),
])
def test_a_helper_missing_any_check_is_not_vetted_and_says_why(fields, problem):
    helper = helper_with(**fields)

    assert not helper_is_vetted_for_home_visits(helper=helper, on=TODAY)
    assert any(problem in p for p in helper_vetting_problems(helper, on=TODAY))


def test_a_dbs_check_valid_today_but_expired_by_the_visit_day_does_not_count():
    helper = helper_with(dbs_expires_on=dt.date(2027, 3, 20))

    assert helper_is_vetted_for_home_visits(helper=helper, on=TODAY)
    assert not helper_is_vetted_for_home_visits(helper=helper, on=dt.date(2027, 3, 25))


vetting_states = st.fixed_dictionaries({
    "dbs_status": st.sampled_from(list(DbsStatus.values)),
    "dbs_expires_in": st.integers(min_value=-30, max_value=60),
    "references_checked": st.booleans(),
    "trained": st.booleans(),
    "is_active": st.booleans(),
    "visit_in": st.integers(min_value=1, max_value=40),
    "place": st.sampled_from(list(HelpPlace.values)),
})


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=vetting_states)
def test_only_a_helper_vetted_on_the_day_is_ever_offered_a_home_visit(state, settings):
    # Given a helper in any vetting state and a request on any day, anywhere
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    today = timezone.localdate()
    clear = state["dbs_status"] == DbsStatus.CLEAR
    helper = HelperFactory(
        circle=circle, dbs_status=state["dbs_status"],
        dbs_checked_on=today - dt.timedelta(days=400) if clear else None,
        dbs_expires_on=today + dt.timedelta(days=state["dbs_expires_in"]) if clear else None,
        references_checked=state["references_checked"],
        training_completed_on=today - dt.timedelta(days=5) if state["trained"] else None,
        is_active=state["is_active"],
    )
    help_request = HelpRequestFactory(
        member=MemberFactory(circle=circle), starts_at=in_days(state["visit_in"]), place=state["place"]
    )
    vetted_on_the_day = helper_is_vetted_for_home_visits(helper=helper, on=in_days(state["visit_in"]).date())

    # When the coordinator offers it to the helper
    try:
        match_propose(help_request=help_request, helper=helper, actor=coordinator)
        offered = True
    except ValidationError:
        offered = False

    # Then a home visit is offered exactly when the helper is vetted (and active) on its day;
    # help elsewhere only needs an active helper
    if state["place"] == HelpPlace.HOME:
        assert offered == (vetted_on_the_day and state["is_active"])
    else:
        assert offered == state["is_active"]
    if not offered:
        assert not Match.objects.filter(request=help_request).exists()
        help_request.refresh_from_db()
        assert help_request.status == RequestStatus.OPEN


def test_a_helper_whose_dbs_expired_after_the_offer_cannot_accept_the_home_visit():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle), starts_at=in_days(5))
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)
    Helper.objects.filter(pk=helper.pk).update(dbs_expires_on=timezone.localdate() + dt.timedelta(days=2))
    helper.refresh_from_db()

    with pytest.raises(ValidationError, match="checks are up to date"):
        match_respond(match=match, actor=helper.user, accept=True)

    match.refresh_from_db()
    assert match.status == MatchStatus.OFFERED
    assert not Visit.objects.filter(request=help_request).exists()


def test_a_helper_whose_dbs_expired_before_the_day_cannot_check_in_to_a_home_visit():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle), starts_at=in_days(1))
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)
    visit = match_respond(match=match, actor=helper.user, accept=True)
    assert visit is not None
    Helper.objects.filter(pk=helper.pk).update(dbs_status=DbsStatus.REVIEW)

    with pytest.raises(ValidationError, match="checks are up to date"):
        visit_check_in(visit=visit, actor=helper.user, now=visit.planned_start)

    visit.refresh_from_db()
    assert visit.checked_in_at is None


def test_a_member_becomes_a_helper_and_the_change_is_recorded():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, postcode="SE1 7PB")

    helper = member_become_helper(member=member, actor=coordinator)
    again = member_become_helper(member=member, actor=coordinator)

    assert again.pk == helper.pk
    assert helper.kind == HelperKind.MEMBER
    assert helper.member == member
    assert helper.postcode == "SE1 7PB"
    # Not vetted yet: a new helper does not go into homes until their checks are done
    assert not helper_is_vetted_for_home_visits(helper=helper)
    transition = HelperTransition.objects.get(member=member)
    assert transition.helper == helper
    assert transition.recorded_by == coordinator
    event = AuditEvent.objects.get(action="circles.member_became_helper")
    assert event.on_behalf_of == member.user


def test_a_coordinator_of_another_circle_cannot_make_a_member_a_helper():
    member = MemberFactory()
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        member_become_helper(member=member, actor=stranger)

    assert not Helper.objects.filter(member=member).exists()
