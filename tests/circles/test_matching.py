"""The coordinator's matching: candidates ranked with a reason for each rank, offers to
vetted helpers only, one helper at a time, and the helper's answer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from localsocial.circles.models import (
    DbsStatus,
    FeedbackSide,
    HelpCategory,
    HelpPlace,
    Match,
    MatchStatus,
    RequestStatus,
    Visit,
    VisitFeedback,
)
from localsocial.circles.selectors.help import helpers_rank_for_request
from localsocial.circles.services.help import match_propose, match_respond, match_withdraw
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import (
    HelpRequestFactory,
    arranged_visit,
    coordinator_of,
    in_days,
    skilled,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory()


@pytest.fixture
def coordinator(circle):
    return coordinator_of(circle)


def gardening_at_home(circle, **fields):
    starts = in_days(7, hour=10)
    values = {"starts_at": starts, "category": HelpCategory.GARDEN, "place": HelpPlace.HOME,
              "latitude": 51.5, "longitude": -0.09, "postcode": "SE1 7PB"}
    values.update(fields)
    return HelpRequestFactory(member=MemberFactory(circle=circle), **values)


def test_candidates_are_ranked_by_skill_distance_and_availability_with_reasons(circle):
    help_request = gardening_at_home(circle)
    weekday = help_request.starts_at.weekday()
    best = skilled(HelperFactory(circle=circle, display_name="Asha", latitude=51.501, longitude=-0.09,
                                 travel_radius_km=5), HelpCategory.GARDEN, days=[weekday])
    far = skilled(HelperFactory(circle=circle, display_name="Bob", latitude=51.6, longitude=-0.09,
                                travel_radius_km=3), HelpCategory.GARDEN, days=[weekday])
    unskilled = HelperFactory(circle=circle, display_name="Cath", latitude=51.5, longitude=-0.09)
    HelperFactory(circle=CircleFactory(), display_name="Elsewhere")

    ranked = helpers_rank_for_request(help_request=help_request)

    assert [c.helper for c in ranked] == [best, far, unskilled]
    top = ranked[0]
    assert {f.name: f.points for f in top.factors} == {
        "skill": 30, "distance": 20, "availability": 20, "vetting": 10, "feedback": 0, "workload": 0,
    }
    assert top.reason == (
        "Gives help with “Gardening”; 0.1 km away, within the 5.0 km they travel; usually free at that time; "
        "vetted for home visits; no feedback from members yet; no other visits that week."
    )
    assert "11.1 km away, further than the 3.0 km they travel" in ranked[1].reason
    assert ranked[2].reason.startswith("Has not said they help with “Gardening”")


def test_an_unvetted_helper_is_listed_last_for_a_home_visit_and_says_why(circle):
    help_request = gardening_at_home(circle)
    unvetted = skilled(HelperFactory(circle=circle, display_name="Dee", dbs_status=DbsStatus.APPLIED,
                                     dbs_checked_on=None, dbs_expires_on=None), HelpCategory.GARDEN)
    vetted = HelperFactory(circle=circle, display_name="Eve")

    ranked = helpers_rank_for_request(help_request=help_request)

    assert [c.helper for c in ranked] == [vetted, unvetted]
    assert not ranked[1].eligible
    assert ranked[1].blocked == "Cannot be sent to a home visit: has no clear DBS check."


def test_an_unvetted_helper_may_help_outside_the_home(circle, coordinator):
    help_request = gardening_at_home(circle, place=HelpPlace.OUT)
    unvetted = HelperFactory(circle=circle, dbs_status=DbsStatus.NONE, dbs_checked_on=None, dbs_expires_on=None)

    ranked = helpers_rank_for_request(help_request=help_request)
    match = match_propose(help_request=help_request, helper=unvetted, actor=coordinator)

    assert ranked[0].eligible
    assert match.status == MatchStatus.OFFERED


def test_good_feedback_ranks_higher_and_a_busy_helper_lower(circle, coordinator):
    help_request = gardening_at_home(circle)
    liked = HelperFactory(circle=circle, display_name="Zara")
    busy = HelperFactory(circle=circle, display_name="Adam")
    done, _coordinator = arranged_visit(circle=circle, helper=liked, starts_at=in_days(1))
    VisitFeedback.objects.create(visit=done, side=FeedbackSide.MEMBER, rating=5)
    Visit.objects.filter(pk=done.pk).update(completed_at=done.planned_end, coordinator_confirmed_at=done.planned_end)
    for day in (6, 8):
        arranged_visit(circle=circle, helper=busy, starts_at=in_days(day))

    ranked = helpers_rank_for_request(help_request=help_request)

    assert [c.helper for c in ranked] == [liked, busy]
    assert "members rated their help 5.0 out of 5 (1 visits)" in ranked[0].reason
    assert "2 other visits within three days" in ranked[1].reason
    assert {f.name: f.points for f in ranked[1].factors}["workload"] == -10


def test_the_helper_whose_offer_the_member_chose_ranks_first(circle):
    from localsocial.circles.services.help import offer_create

    chosen = HelperFactory(circle=circle, display_name="Yusuf")
    HelperFactory(circle=circle, display_name="Abel")
    offer = offer_create(helper=chosen, actor=chosen.user, category=HelpCategory.GARDEN, title="Hedges",
                         place=HelpPlace.HOME)
    help_request = gardening_at_home(circle, offer=offer)

    ranked = helpers_rank_for_request(help_request=help_request)

    assert ranked[0].helper == chosen
    assert "the member asked for help from their offer" in ranked[0].reason


def test_ranking_takes_the_same_queries_for_few_or_many_helpers(circle, django_assert_max_num_queries):
    help_request = gardening_at_home(circle)
    for _i in range(2):
        skilled(HelperFactory(circle=circle), HelpCategory.GARDEN, days=[0, 1])
    with django_assert_max_num_queries(10) as few:
        helpers_rank_for_request(help_request=help_request)
    for _i in range(20):
        skilled(HelperFactory(circle=circle), HelpCategory.GARDEN, days=[0, 1])

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(helpers_rank_for_request(help_request=help_request)) == 22


def test_a_coordinator_offers_a_request_and_the_helper_is_emailed(circle, coordinator,
                                                                   django_capture_on_commit_callbacks):
    help_request = gardening_at_home(circle)
    helper = skilled(HelperFactory(circle=circle), HelpCategory.GARDEN)

    with django_capture_on_commit_callbacks(execute=True):
        match = match_propose(help_request=help_request, helper=helper, actor=coordinator)

    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.OFFERED
    assert match.reason.startswith("Gives help with “Gardening”")
    assert match.score > 0
    assert [m.to for m in mail.outbox] == [[helper.user.email]]
    assert mail.outbox[0].subject == "Can you help?"


def test_a_coordinator_of_another_circle_cannot_offer_a_request(circle):
    help_request = gardening_at_home(circle)
    helper = HelperFactory(circle=circle)
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        match_propose(help_request=help_request, helper=helper, actor=stranger)

    assert not Match.objects.exists()


def test_a_helper_of_another_circle_cannot_be_offered_a_request(circle, coordinator):
    help_request = gardening_at_home(circle)
    outsider = HelperFactory(circle=CircleFactory())

    with pytest.raises(PermissionDenied):
        match_propose(help_request=help_request, helper=outsider, actor=coordinator)


def test_a_request_is_offered_to_one_helper_at_a_time(circle, coordinator):
    help_request = gardening_at_home(circle)
    first, second = HelperFactory(circle=circle), HelperFactory(circle=circle)
    match_propose(help_request=help_request, helper=first, actor=coordinator)

    again = match_propose(help_request=help_request, helper=first, actor=coordinator)
    with pytest.raises(ValidationError, match="not waiting for a helper"):
        match_propose(help_request=help_request, helper=second, actor=coordinator)
    # And the database refuses a second live match whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.create(request=help_request, helper=second)

    assert again.helper == first
    assert Match.objects.filter(request=help_request).count() == 1


def test_the_helper_accepts_and_a_visit_is_arranged_for_the_requested_time(circle, coordinator):
    help_request = gardening_at_home(circle, estimated_quarters=6)
    helper = HelperFactory(circle=circle)
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)

    visit = match_respond(match=match, actor=helper.user, accept=True)
    again = match_respond(match=match, actor=helper.user, accept=True)

    assert visit is not None
    assert again == visit
    assert visit.planned_start == help_request.starts_at
    assert visit.planned_end == help_request.starts_at + dt.timedelta(minutes=90)
    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.ARRANGED


def test_the_helper_declines_and_the_request_goes_back_to_the_queue(circle, coordinator,
                                                                     django_capture_on_commit_callbacks):
    help_request = gardening_at_home(circle)
    helper = HelperFactory(circle=circle, display_name="Fola")
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        assert match_respond(match=match, actor=helper.user, accept=False, decline_reason="Away that week") is None

    help_request.refresh_from_db()
    match.refresh_from_db()
    assert help_request.status == RequestStatus.OPEN
    assert match.status == MatchStatus.DECLINED
    assert "Away that week" in mail.outbox[-1].body
    declined = helpers_rank_for_request(help_request=help_request)[0]
    assert not declined.eligible
    assert declined.blocked == "Declined this request."


def test_only_the_helper_asked_can_answer(circle, coordinator):
    help_request = gardening_at_home(circle)
    helper, other = HelperFactory(circle=circle), HelperFactory(circle=circle)
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)

    with pytest.raises(PermissionDenied):
        match_respond(match=match, actor=other.user, accept=True)
    with pytest.raises(PermissionDenied):
        match_respond(match=match, actor=coordinator, accept=True)


def test_a_withdrawn_offer_cannot_be_accepted(circle, coordinator):
    help_request = gardening_at_home(circle)
    helper = HelperFactory(circle=circle)
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)
    match_withdraw(match=match, actor=coordinator)

    with pytest.raises(ValidationError, match="no longer offered"):
        match_respond(match=match, actor=helper.user, accept=True)

    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.OPEN
