"""The help pages: asking for help, the matching queue and candidates, a helper's visits,
confirming, feedback and incidents; each only for the people it is for."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from localsocial.circles.models import (
    DbsStatus,
    HelpCategory,
    HelpRequest,
    IncidentReport,
    Match,
    MatchStatus,
    Offer,
    Visit,
    VisitFeedback,
)
from localsocial.circles.selectors.help import helpers_rank_for_request
from localsocial.circles.services.help import match_propose
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import (
    HelpRequestFactory,
    arranged_visit,
    coordinator_of,
    skilled,
)
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CircleFactory(name="Southwark Circle", slug="southwark")


def client_for(user):
    return sign_in_verified(CommittingClient(), user)


def ask_data(**overrides):
    day = timezone.localdate() + dt.timedelta(days=5)
    data = {"category": "tech", "description": "Help me video call my grandson", "date": day.isoformat(),
            "time": "10:30", "estimated_quarters": "4", "place": "home", "place_details": "", "key": "k-1"}
    data.update(overrides)
    return data


def test_signing_in_is_needed_to_ask_for_help(client, circle):
    response = client.get("/circles/southwark/help/ask/")

    assert response.status_code == 302
    assert "sign-in" in response["Location"] or "login" in response["Location"]


def test_a_member_asks_for_help_and_sees_their_request(circle):
    member = MemberFactory(circle=circle)
    coordinator = coordinator_of(circle)
    browser = client_for(member.user)

    assert browser.get("/circles/southwark/help/ask/").status_code == 200
    response = browser.post("/circles/southwark/help/ask/", ask_data())
    browser.post("/circles/southwark/help/ask/", ask_data())  # sent twice

    assert response.status_code == 302
    assert response["Location"] == "/circles/help/"
    assert HelpRequest.objects.count() == 1
    page = browser.get("/circles/help/").content.decode()
    assert "Help me video call my grandson" in page
    assert "Waiting for a helper" in page
    assert [m.to for m in mail.outbox] == [[coordinator.email]]


def test_a_mistake_in_the_form_is_shown_and_nothing_typed_is_lost(circle):
    member = MemberFactory(circle=circle)

    response = client_for(member.user).post("/circles/southwark/help/ask/", ask_data(date="31/02/2027"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Error: Ask for help" in page
    assert "There is a problem" in page
    assert "Enter the day as a real date, like 27/3/2027" in page
    assert "Help me video call my grandson" in page
    assert not HelpRequest.objects.exists()


def test_someone_who_is_not_a_member_of_the_circle_cannot_ask_there(circle):
    outsider = MemberFactory()

    assert client_for(outsider.user).get("/circles/southwark/help/ask/").status_code == 404


def test_a_coordinator_sees_the_queue_and_the_ranked_candidates_with_reasons(circle):
    coordinator = coordinator_of(circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle, display_name="Mrs Okafor"),
                                      category=HelpCategory.GARDEN)
    skilled(HelperFactory(circle=circle, display_name="Asha"), HelpCategory.GARDEN)
    HelperFactory(circle=circle, display_name="Dee", dbs_status=DbsStatus.APPLIED, dbs_checked_on=None,
                  dbs_expires_on=None)
    browser = client_for(coordinator)

    queue = browser.get("/circles/southwark/help/queue/").content.decode()
    candidates = browser.get(f"/circles/southwark/help/requests/{help_request.pk}/candidates/").content.decode()

    assert "Mrs Okafor" in queue
    assert "Find a helper" in queue
    assert candidates.index("Asha") < candidates.index("Dee")
    assert "Gives help with “Gardening”" in candidates
    assert "Cannot be sent to a home visit: has no clear DBS check." in candidates
    assert candidates.count("Offer to this helper") == 1


def test_offering_an_unvetted_helper_a_home_visit_is_refused_on_the_page(circle):
    coordinator = coordinator_of(circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    unvetted = HelperFactory(circle=circle, display_name="Dee", dbs_status=DbsStatus.NONE, dbs_checked_on=None,
                             dbs_expires_on=None)
    url = f"/circles/southwark/help/requests/{help_request.pk}/candidates/"

    response = client_for(coordinator).post(url, {"helper": unvetted.pk}, follow=True)

    assert "Dee cannot be sent to a home visit: has no clear DBS check." in response.content.decode()
    assert not Match.objects.exists()


def test_a_coordinator_offers_a_request_to_a_helper_from_the_page(circle):
    coordinator = coordinator_of(circle)
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    helper = HelperFactory(circle=circle, display_name="Asha")

    response = client_for(coordinator).post(
        f"/circles/southwark/help/requests/{help_request.pk}/candidates/", {"helper": helper.pk}, follow=True
    )

    assert "The request has been offered to Asha" in response.content.decode()
    assert Match.objects.get().helper == helper
    assert mail.outbox[-1].to == [helper.user.email]


@pytest.mark.parametrize("path", [
    "/circles/southwark/help/queue/",
    "/circles/southwark/help/requests/{request}/candidates/",
    "/circles/southwark/help/ask/for/{member}/",
    "/circles/help/visits/{visit}/",
])
def test_a_coordinator_of_another_circle_gets_not_found(circle, path):
    visit, _coordinator = arranged_visit(circle=circle)
    other = coordinator_of(CircleFactory())
    url = path.format(request=visit.request.pk, member=visit.request.member.pk, visit=visit.pk)

    assert client_for(other).get(url).status_code == 404


def test_a_coordinator_of_another_circle_cannot_offer_by_posting(circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    helper = HelperFactory(circle=circle)
    other = coordinator_of(CircleFactory())

    response = client_for(other).post(
        f"/circles/southwark/help/requests/{help_request.pk}/candidates/", {"helper": helper.pk}
    )

    assert response.status_code == 404
    assert not Match.objects.exists()


def test_a_helper_accepts_checks_in_and_out_and_confirms(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, display_name="Mr Patel")
    help_request = HelpRequestFactory(member=member, starts_at=timezone.now() + dt.timedelta(minutes=30))
    helper = HelperFactory(circle=circle)
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)
    browser = client_for(helper.user)

    visits_page = browser.get("/circles/help/visits/").content.decode()
    assert "Mr Patel" in visits_page
    assert "Yes, I can help" in visits_page
    accepted = browser.post(f"/circles/help/matches/{match.pk}/answer/", {"answer": "accept"})
    visit = Visit.objects.get()
    assert accepted["Location"] == f"/circles/help/visits/{visit.pk}/"
    browser.post(f"/circles/help/visits/{visit.pk}/check-in/")
    browser.post(f"/circles/help/visits/{visit.pk}/check-out/")
    page = browser.post(f"/circles/help/visits/{visit.pk}/confirm/", follow=True).content.decode()

    visit.refresh_from_db()
    assert visit.checked_in_at
    assert visit.checked_out_at
    assert visit.helper_confirmed_at
    assert "Thank you for confirming the visit" in page
    # The member confirms too and the visit is complete (owed: they have no tokens yet)
    member_page = client_for(member.user).post(f"/circles/help/visits/{visit.pk}/confirm/", follow=True)
    visit.refresh_from_db()
    assert visit.completed_at is not None
    assert visit.payment == "owed"
    assert "Owed: the member did not have enough tokens" in member_page.content.decode()


def test_a_helper_declines_from_the_page(circle):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle)
    match = match_propose(help_request=HelpRequestFactory(member=MemberFactory(circle=circle)), helper=helper,
                          actor=coordinator)

    client_for(helper.user).post(f"/circles/help/matches/{match.pk}/answer/",
                                 {"answer": "decline", "decline_reason": "On holiday"})

    match.refresh_from_db()
    assert match.status == MatchStatus.DECLINED
    assert match.decline_reason == "On holiday"


def test_another_helper_cannot_answer_or_see_a_visit(circle):
    visit, _coordinator = arranged_visit(circle=circle)
    other = HelperFactory(circle=circle)
    browser = client_for(other.user)

    assert browser.post(f"/circles/help/matches/{visit.match.pk}/answer/", {"answer": "accept"}).status_code == 404
    assert browser.get(f"/circles/help/visits/{visit.pk}/").status_code == 404
    assert browser.post(f"/circles/help/visits/{visit.pk}/check-in/").status_code == 404


def test_an_incident_report_from_the_page_reaches_the_coordinators(circle):
    visit, coordinator = arranged_visit(circle=circle)
    browser = client_for(visit.request.member.user)

    assert browser.get(f"/circles/help/visits/{visit.pk}/incident/").status_code == 200
    response = browser.post(f"/circles/help/visits/{visit.pk}/incident/",
                            {"description": "The helper was rude", "key": "abc"})

    assert response.status_code == 302
    assert IncidentReport.objects.get().description == "The helper was rude"
    assert mail.outbox[-1].to == [coordinator.email]
    assert mail.outbox[-1].subject == "Incident reported"


def test_an_empty_incident_report_says_what_is_missing(circle):
    visit, _coordinator = arranged_visit(circle=circle)

    response = client_for(visit.helper.user).post(f"/circles/help/visits/{visit.pk}/incident/",
                                                  {"description": "", "key": "abc"})

    assert "Say what happened" in response.content.decode()
    assert not IncidentReport.objects.exists()


def test_the_member_says_how_the_visit_went(circle):
    visit, _coordinator = arranged_visit(circle=circle)
    Visit.objects.filter(pk=visit.pk).update(checked_in_at=visit.planned_start, checked_out_at=visit.planned_end)
    browser = client_for(visit.request.member.user)

    assert "Say how it went" in browser.get(f"/circles/help/visits/{visit.pk}/").content.decode()
    browser.post(f"/circles/help/visits/{visit.pk}/feedback/", {"rating": "5", "comment": "Wonderful"})

    assert VisitFeedback.objects.get().rating == 5
    assert "Say how it went" not in browser.get(f"/circles/help/visits/{visit.pk}/").content.decode()


@pytest.mark.parametrize("page", ["queue", "candidates", "visits", "mine", "offers"])
def test_the_pages_take_the_same_queries_for_few_or_many(circle, page, django_assert_max_num_queries):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle)
    member = MemberFactory(circle=circle)
    target = HelpRequestFactory(member=member)

    def make(count):
        for _i in range(count):
            arranged_visit(circle=circle, helper=helper, member=member)
            HelperFactory(circle=circle)
            HelpRequestFactory(member=member)
            Offer.objects.create(circle=circle, helper=helper, category="tech", title="Phones", place="remote")

    user = {"queue": coordinator, "candidates": coordinator, "visits": helper.user, "mine": member.user,
            "offers": member.user}[page]
    url = {"queue": "/circles/southwark/help/queue/", "candidates": f"/circles/southwark/help/requests/{target.pk}/candidates/",
           "visits": "/circles/help/visits/", "mine": "/circles/help/", "offers": "/circles/southwark/help/offers/"}[page]
    browser = client_for(user)
    make(2)
    with django_assert_max_num_queries(40) as few:
        assert browser.get(url).status_code == 200
    make(12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert browser.get(url).status_code == 200


def test_a_helper_says_what_they_do_and_when_they_are_free_and_it_counts_in_the_ranking(circle):
    helper = HelperFactory(circle=circle, display_name="Asha")
    browser = client_for(helper.user)

    assert "All checks are done" in browser.get("/circles/southwark/help/helper/").content.decode()
    browser.post("/circles/southwark/help/helper/", {"skills": ["garden", "tech"], "free_times": ["1-morning"]})

    assert sorted(helper.skills.values_list("category", flat=True)) == ["garden", "tech"]
    assert list(helper.availability.values_list("weekday", "starts", "ends")) == [(1, dt.time(9), dt.time(12))]
    page = browser.get("/circles/southwark/help/helper/").content.decode()
    assert 'value="1-morning" checked' in page
    ranked_reason = helpers_rank_for_request(help_request=HelpRequestFactory(member=MemberFactory(circle=circle)))[0].reason
    assert ranked_reason.startswith("Gives help with “Gardening”")


def test_a_coordinator_sees_a_helpers_checks_and_another_circles_coordinator_cannot(circle):
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, references_checked=False)

    page = client_for(coordinator).get(f"/circles/southwark/help/helpers/{helper.pk}/").content.decode()

    assert "Not yet able to help in members' homes: references not checked" in page
    assert client_for(coordinator_of(CircleFactory())).get(
        f"/circles/southwark/help/helpers/{helper.pk}/").status_code == 404


def test_a_coordinator_makes_a_member_a_helper_and_the_queue_reports_it(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, display_name="Grace")
    browser = client_for(coordinator)

    assert browser.get(f"/circles/southwark/help/members/{member.pk}/become-helper/").status_code == 200
    response = browser.post(f"/circles/southwark/help/members/{member.pk}/become-helper/", follow=True)

    assert "Grace is now a helper" in response.content.decode()
    queue = browser.get("/circles/southwark/help/queue/").content.decode()
    assert "1 members have become helpers" in queue
    assert "Not for home visits" in queue


def test_a_coordinator_of_another_circle_cannot_make_a_member_a_helper(circle):
    member = MemberFactory(circle=circle)

    response = client_for(coordinator_of(CircleFactory())).post(
        f"/circles/southwark/help/members/{member.pk}/become-helper/")

    assert response.status_code == 404


def test_a_member_reports_a_worry_not_about_a_visit(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle)
    browser = client_for(member.user)

    assert "Report an incident or a worry" in browser.get("/circles/southwark/help/offers/").content.decode()
    browser.post("/circles/southwark/help/incident/", {"description": "A stranger called asking about members",
                                                       "key": "w1"})

    assert IncidentReport.objects.get().visit is None
    assert mail.outbox[-1].to == [coordinator.email]
    assert client_for(MemberFactory().user).get("/circles/southwark/help/incident/").status_code == 404


def test_a_coordinator_asks_for_help_for_a_member_on_the_phone(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, display_name="Mrs Ade", consent_given_at=timezone.now())
    browser = client_for(coordinator)
    url = f"/circles/southwark/help/ask/for/{member.pk}/"

    assert "You are asking for help on behalf of Mrs Ade" in browser.get(url).content.decode()
    response = browser.post(url, ask_data(), follow=True)

    help_request = HelpRequest.objects.get()
    assert help_request.member == member
    assert help_request.on_behalf_of == member.user
    assert "The request for Mrs Ade has been sent to the matching queue" in response.content.decode()


def test_a_coordinator_is_told_to_record_consent_first(circle):
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle)

    response = client_for(coordinator).post(f"/circles/southwark/help/ask/for/{member.pk}/", ask_data())

    assert "consent to a coordinator acting for them before asking for help for them" in response.content.decode()
    assert not HelpRequest.objects.exists()
