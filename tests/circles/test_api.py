"""/api/circles/: public circles, a member's own requests and statement (circles:member), and
coordinators' actions (circles:coordinate) — scopes, roles re-checked per request, refusals
across circles, idempotent retries that pay once, and cursor pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from localsocial.accounts.models import SiteRole
from localsocial.api.models import ApiIdempotencyKey
from localsocial.circles.models import (
    Account,
    CircleCoordinator,
    DbsStatus,
    HelpPlace,
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    Payment,
    RequestStatus,
    Transfer,
    VisitPayment,
)
from localsocial.circles.services.help import match_propose
from tests.api.problems import field_errors, problem
from tests.api.tokens import bearer
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory, TokenBundleFactory
from tests.circles.test_help_support import (
    HelpRequestFactory,
    arranged_visit,
    coordinator_of,
    give_tokens,
    in_days,
)
from tests.factories import AreaFactory, OrganisationFactory, RoleGrantFactory, UserFactory
from tests.helpers import CommittingClient, sign_in_verified

pytestmark = pytest.mark.django_db

MEMBER_SCOPE = "circles:member"
COORDINATE_SCOPE = "circles:coordinate"


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.API_RATE = settings.API_WRITE_RATE = "100000/h"


@pytest.fixture
def circle(db):
    return CircleFactory(name="Riverside Circle", slug="riverside")


@pytest.fixture
def other_circle(db):
    return CircleFactory(name="Hillside Circle", slug="hillside")


def _member_headers(make_token, member, scopes=(MEMBER_SCOPE,)):
    _token, secret = make_token(member.user, scopes=list(scopes))
    return bearer(secret)


def _coordinator_headers(make_token, circle, scopes=(COORDINATE_SCOPE,)):
    user = coordinator_of(circle)
    _token, secret = make_token(user, scopes=list(scopes))
    return user, bearer(secret)


def _ask_body(**changes):
    body = {
        "category": "garden",
        "description": "Cut back the hedge by the gate",
        "starts_at": in_days(4).isoformat(),
        "estimated_quarters": 4,
        "place": "out",
        "place_details": "The allotments",
    }
    body.update(changes)
    return body


def _post(client, path, body, headers, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(path, body, content_type="application/json", **headers, **extra)


# --- Public ---------------------------------------------------------------------------------------

def test_circle_list_shows_open_circles_with_fee_eligibility_and_bundles_on_sale(client, django_assert_max_num_queries):
    # Given an open circle with an area, a bundle on sale and one withdrawn, and a closed circle
    area = AreaFactory(name="Riverside", gss_code="E09000091")
    organisation = OrganisationFactory(slug="riverside-council", name="Riverside Council")
    circle = CircleFactory(name="Riverside Circle", slug="riverside", area=area, organisation=organisation,
                           annual_fee_pence=1500, minimum_age=55)
    TokenBundleFactory(circle=circle, name="Three hours", quarters=12, price_pence=3000)
    TokenBundleFactory(circle=circle, name="Old offer", is_active=False)
    CircleFactory(name="Closed Circle", slug="closed", is_active=False)
    for n in range(3):
        TokenBundleFactory(circle=CircleFactory(name=f"Zed {n}", slug=f"zed-{n}"))
    # When anyone lists circles, without a token
    with django_assert_max_num_queries(2):
        response = client.get("/api/circles/")
    # Then they see open circles by name with what a visitor sees on the circle's page
    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["slug"] for item in items] == ["riverside", "zed-0", "zed-1", "zed-2"]
    riverside = items[0]
    assert riverside["annual_fee_pence"] == 1500
    assert riverside["minimum_age"] == 55
    assert riverside["area"] == {"gss_code": "E09000091", "name": "Riverside"}
    assert riverside["organisation"] == {"slug": "riverside-council", "name": "Riverside Council"}
    assert riverside["bundles"] == [{"name": "Three hours", "quarters": 12, "price_pence": 3000}]
    assert riverside["url"].endswith("/circles/riverside/")


def test_circle_list_pages_with_a_cursor(client):
    for n in range(5):
        CircleFactory(name=f"Circle {n}", slug=f"c-{n}")
    first = client.get("/api/circles/?limit=2").json()
    second = client.get(f"/api/circles/?limit=2&cursor={first['next_cursor']}").json()
    third = client.get(f"/api/circles/?limit=2&cursor={second['next_cursor']}").json()
    slugs = [i["slug"] for page in (first, second, third) for i in page["items"]]
    assert slugs == ["c-0", "c-1", "c-2", "c-3", "c-4"]
    assert third["next_cursor"] is None
    assert client.get("/api/circles/?cursor=made-up").status_code == 422


def test_one_circle_and_a_missing_one(client, circle):
    response = client.get("/api/circles/riverside")
    assert response.status_code == 200
    assert response.json()["name"] == "Riverside Circle"
    assert client.get("/api/circles/nowhere").status_code == 404


# --- Offers ----------------------------------------------------------------------------------------

def test_members_see_listed_offers_with_the_helpers_name_only(client, make_token, circle):
    # Given a helper with a listed offer and an unlisted one, and a member of the circle
    helper = HelperFactory(circle=circle, display_name="Pat", postcode="SE1 7PB")
    Offer.objects.create(circle=circle, helper=helper, category="tech", title="Set up your tablet", place="home")
    Offer.objects.create(circle=circle, helper=helper, category="garden", title="Mowing", place="home", is_active=False)
    member = MemberFactory(circle=circle)
    # When the member lists the offers
    response = client.get("/api/circles/riverside/offers/", **_member_headers(make_token, member))
    # Then they see the listed offer with the helper's name, and nothing else about the helper
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(o["title"], o["helper_name"]) for o in items] == [("Set up your tablet", "Pat")]
    assert "SE1" not in response.content.decode()
    assert helper.user.email not in response.content.decode()


def test_offers_are_refused_to_people_outside_the_circle_and_without_the_scope(client, make_token, circle, other_circle):
    outsider = MemberFactory(circle=other_circle)
    assert client.get("/api/circles/riverside/offers/").status_code == 401
    assert client.get("/api/circles/riverside/offers/", **_member_headers(make_token, outsider)).status_code == 403
    member = MemberFactory(circle=circle)
    no_scope = _member_headers(make_token, member, scopes=("stories:write",))
    assert client.get("/api/circles/riverside/offers/", **no_scope).status_code == 403
    assert client.get("/api/circles/nowhere/offers/", **_member_headers(make_token, member)).status_code == 404


# --- A member's own requests --------------------------------------------------------------------

def test_asking_for_help_twice_with_the_same_key_makes_one_request(make_token, circle):
    # Given a member with a token
    member = MemberFactory(circle=circle)
    coordinator_of(circle)
    headers = _member_headers(make_token, member)
    client = CommittingClient()
    # When they ask for help, and the request is retried with the same key
    first = _post(client, "/api/circles/riverside/requests/", _ask_body(), headers, key="k-1")
    again = _post(client, "/api/circles/riverside/requests/", _ask_body(), headers, key="k-1")
    # Then one request exists, and the retry answers with it
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    help_request = HelpRequest.objects.get()
    assert help_request.member == member
    assert help_request.created_by == member.user
    assert help_request.on_behalf_of is None
    assert first.json()["status"] == "open"


def test_a_key_reused_for_another_request_is_refused(client, make_token, circle):
    headers = _member_headers(make_token, MemberFactory(circle=circle))
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), headers, key="k-1").status_code == 201
    response = _post(client, "/api/circles/riverside/requests/", _ask_body(description="Other"), headers, key="k-1")
    assert response.status_code == 422
    assert HelpRequest.objects.count() == 1


def test_asking_needs_an_idempotency_key(client, make_token, circle):
    headers = _member_headers(make_token, MemberFactory(circle=circle))
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), headers).status_code == 422
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), headers, key="  ").status_code == 422
    assert not HelpRequest.objects.exists()


def test_the_services_rules_apply_to_requests_from_the_api(client, make_token, circle):
    # Given a member, when they ask for help in the past
    headers = _member_headers(make_token, MemberFactory(circle=circle))
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = _post(client, "/api/circles/riverside/requests/", _ask_body(starts_at=past), headers, key="k")
    # Then the service's message comes back for that field, and nothing is stored
    assert field_errors(response) == {"body:starts_at": ["The time must be in the future"]}
    assert response.json()["errors"][0]["pointer"] == "#/starts_at"
    assert not HelpRequest.objects.exists()


def test_a_lapsed_member_cannot_ask(client, make_token, circle):
    headers = _member_headers(make_token, MemberFactory(circle=circle, status="lapsed"))
    response = _post(client, "/api/circles/riverside/requests/", _ask_body(), headers, key="k")
    assert "Only an active member can ask for help." in problem(response, 422, "invalid-request")["detail"]


def test_asking_is_refused_outside_your_circle_and_without_the_member_scope(client, make_token, circle, other_circle):
    outsider = _member_headers(make_token, MemberFactory(circle=other_circle))
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), outsider, key="k").status_code == 403
    _user, coordinator = _coordinator_headers(make_token, circle)
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), coordinator, key="k").status_code == 403
    assert _post(client, "/api/circles/riverside/requests/", _ask_body(), {}, key="k").status_code == 401
    assert not HelpRequest.objects.exists()


def test_asking_from_an_offer_takes_its_kind_of_help(client, make_token, circle, other_circle):
    helper = HelperFactory(circle=circle)
    offer = Offer.objects.create(circle=circle, helper=helper, category="tech", title="Tablets", place="home")
    elsewhere = Offer.objects.create(circle=other_circle, helper=HelperFactory(circle=other_circle),
                                     category="tech", title="Phones", place="home")
    headers = _member_headers(make_token, MemberFactory(circle=circle))
    response = _post(client, "/api/circles/riverside/requests/", _ask_body(offer_id=offer.pk), headers, key="a")
    assert response.status_code == 201
    assert response.json()["category"] == "tech"
    assert response.json()["offer_id"] == offer.pk
    refused = _post(client, "/api/circles/riverside/requests/", _ask_body(offer_id=elsewhere.pk), headers, key="b")
    assert refused.status_code == 422


def test_members_list_only_their_own_requests_a_page_at_a_time(client, make_token, circle, django_assert_max_num_queries):
    # Given a member with five requests, one arranged, and another member's request
    member = MemberFactory(circle=circle)
    for n in range(5):
        HelpRequestFactory(member=member, starts_at=in_days(n + 1), description=f"Job {n}")
    HelpRequestFactory(member=MemberFactory(circle=circle), description="Someone else's")
    headers = _member_headers(make_token, member)
    # When they list their requests two at a time
    with django_assert_max_num_queries(6):
        first = client.get("/api/circles/riverside/requests/?limit=2", **headers).json()
    second = client.get(f"/api/circles/riverside/requests/?limit=2&cursor={first['next_cursor']}", **headers).json()
    third = client.get(f"/api/circles/riverside/requests/?limit=2&cursor={second['next_cursor']}", **headers).json()
    # Then they see their own, latest first, and nobody else's
    descriptions = [i["description"] for page in (first, second, third) for i in page["items"]]
    assert descriptions == ["Job 4", "Job 3", "Job 2", "Job 1", "Job 0"]
    assert third["next_cursor"] is None


def test_a_request_shows_its_visit_once_a_helper_accepted(client, make_token, circle):
    member = MemberFactory(circle=circle)
    visit, _coordinator = arranged_visit(circle=circle, member=member, helper=HelperFactory(circle=circle,
                                                                                           display_name="Pat"))
    items = client.get("/api/circles/riverside/requests/", **_member_headers(make_token, member)).json()["items"]
    assert items[0]["status"] == "arranged"
    assert items[0]["visit"]["id"] == visit.pk
    assert items[0]["visit"]["helper_name"] == "Pat"


def test_members_cancel_their_own_open_request_only(client, make_token, circle):
    member = MemberFactory(circle=circle)
    mine = HelpRequestFactory(member=member)
    theirs = HelpRequestFactory(member=MemberFactory(circle=circle))
    headers = _member_headers(make_token, member)
    response = client.post(f"/api/circles/riverside/requests/{mine.pk}/cancel", **headers)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # Twice is harmless
    assert client.post(f"/api/circles/riverside/requests/{mine.pk}/cancel", **headers).status_code == 200
    # Someone else's request is not found
    assert client.post(f"/api/circles/riverside/requests/{theirs.pk}/cancel", **headers).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == RequestStatus.OPEN


def test_a_request_with_a_helper_cannot_be_cancelled(client, make_token, circle):
    member = MemberFactory(circle=circle)
    visit, _coordinator = arranged_visit(circle=circle, member=member)
    response = client.post(f"/api/circles/riverside/requests/{visit.request_id}/cancel",
                           **_member_headers(make_token, member))
    assert "already has a helper" in problem(response, 409, "conflict")["detail"]


def test_statement_shows_balance_and_entries_a_page_at_a_time(client, make_token, circle, other_circle):
    # Given a member given tokens three times
    member = MemberFactory(circle=circle)
    for quarters in (4, 8, 12):
        give_tokens(member, quarters)
    headers = _member_headers(make_token, member)
    # When they read their statement two entries at a time
    first = client.get("/api/circles/riverside/statement/?limit=2", **headers).json()
    second = client.get(f"/api/circles/riverside/statement/?limit=2&cursor={first['next_cursor']}", **headers).json()
    # Then they see the balance and every entry, newest first
    assert first["balance_quarters"] == 24
    assert [e["quarters"] for e in first["items"] + second["items"]] == [12, 8, 4]
    assert second["next_cursor"] is None
    # And a member of another circle has no statement here
    outsider = _member_headers(make_token, MemberFactory(circle=other_circle))
    assert client.get("/api/circles/riverside/statement/", **outsider).status_code == 403


def test_statement_of_a_member_without_tokens_is_empty(client, make_token, circle):
    body = client.get("/api/circles/riverside/statement/", **_member_headers(make_token, MemberFactory(circle=circle)))
    assert body.json() == {"balance_quarters": 0, "items": [], "next_cursor": None, "previous_cursor": None}
    assert not Account.objects.filter(member__circle=circle).exists()


# --- Coordinators ---------------------------------------------------------------------------------

def test_coordinators_see_the_matching_queue_of_their_circle_only(client, make_token, circle, other_circle):
    # Given requests in two circles and a coordinator of the first
    HelpRequestFactory(member=MemberFactory(circle=circle, display_name="Ann"), description="Hedge")
    HelpRequestFactory(member=MemberFactory(circle=other_circle), description="Elsewhere")
    _user, headers = _coordinator_headers(make_token, circle)
    # When they read the queue
    response = client.get("/api/circles/riverside/queue/", **headers)
    # Then they see their circle's request, and are refused the other circle's queue
    assert response.status_code == 200
    assert [(i["description"], i["member"]["display_name"]) for i in response.json()["items"]] == [("Hedge", "Ann")]
    assert client.get("/api/circles/hillside/queue/", **headers).status_code == 403


def test_the_queue_needs_the_coordinate_scope_and_the_role(client, make_token, circle):
    member = MemberFactory(circle=circle)
    assert client.get("/api/circles/riverside/queue/", **_member_headers(make_token, member)).status_code == 403
    assert client.get("/api/circles/riverside/queue/").status_code == 401
    # A token with the scope made by someone who coordinates nothing
    _token, secret = make_token(UserFactory(), scopes=[COORDINATE_SCOPE])
    assert client.get("/api/circles/riverside/queue/", **bearer(secret)).status_code == 403


def test_the_role_is_checked_on_every_request(client, make_token, circle):
    user, headers = _coordinator_headers(make_token, circle)
    assert client.get("/api/circles/riverside/queue/", **headers).status_code == 200
    CircleCoordinator.objects.filter(circle=circle, user=user).delete()
    assert client.get("/api/circles/riverside/queue/", **headers).status_code == 403


def test_site_administrators_may_coordinate_any_circle(client, make_token, circle):
    admin = RoleGrantFactory(role=SiteRole.SITE_ADMIN).user
    _token, secret = make_token(admin, scopes=[COORDINATE_SCOPE])
    assert client.get("/api/circles/riverside/queue/", **bearer(secret)).status_code == 200


def test_candidates_are_ranked_with_reasons_and_unvetted_helpers_blocked_for_home_visits(client, make_token, circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle), place=HelpPlace.HOME)
    vetted = HelperFactory(circle=circle, display_name="Vetted")
    unvetted = HelperFactory(circle=circle, display_name="Unvetted", dbs_status=DbsStatus.NONE,
                             dbs_checked_on=None, dbs_expires_on=None)
    _user, headers = _coordinator_headers(make_token, circle)
    response = client.get(f"/api/circles/riverside/requests/{help_request.pk}/candidates", **headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["helper_id"] for i in items] == [vetted.pk, unvetted.pk]
    assert items[0]["eligible"] is True
    assert items[0]["reason"]
    assert {f["name"] for f in items[0]["factors"]} >= {"skill", "distance", "availability", "vetting"}
    assert items[1]["eligible"] is False
    assert items[1]["blocked"].startswith("Cannot be sent to a home visit")


def test_candidates_of_another_circles_request_are_not_found(client, make_token, circle, other_circle):
    elsewhere = HelpRequestFactory(member=MemberFactory(circle=other_circle))
    _user, headers = _coordinator_headers(make_token, circle)
    assert client.get(f"/api/circles/riverside/requests/{elsewhere.pk}/candidates", **headers).status_code == 404
    assert client.get(f"/api/circles/hillside/requests/{elsewhere.pk}/candidates", **headers).status_code == 403


def test_offering_a_request_to_a_vetted_helper(client, make_token, circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    helper = HelperFactory(circle=circle)
    user, headers = _coordinator_headers(make_token, circle)
    path = f"/api/circles/riverside/requests/{help_request.pk}/matches"
    response = _post(client, path, {"helper_id": helper.pk}, headers)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "offered"
    # Offering it again to the same helper returns the same match
    assert _post(client, path, {"helper_id": helper.pk}, headers).json()["id"] == response.json()["id"]
    match = Match.objects.get()
    assert match.proposed_by == user
    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.OFFERED


def test_an_unvetted_helper_is_refused_for_a_home_visit(client, make_token, circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle), place=HelpPlace.HOME)
    helper = HelperFactory(circle=circle, display_name="Sam", references_checked=False)
    _user, headers = _coordinator_headers(make_token, circle)
    response = _post(client, f"/api/circles/riverside/requests/{help_request.pk}/matches", {"helper_id": helper.pk},
                     headers)
    assert problem(response, 409, "conflict")["detail"].startswith("Sam cannot be sent to a home visit")
    assert not Match.objects.exists()


def test_a_helper_of_another_circle_cannot_be_offered_a_request(client, make_token, circle, other_circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    stranger = HelperFactory(circle=other_circle)
    _user, headers = _coordinator_headers(make_token, circle)
    response = _post(client, f"/api/circles/riverside/requests/{help_request.pk}/matches",
                     {"helper_id": stranger.pk}, headers)
    assert response.status_code == 422
    assert not Match.objects.exists()
    # Nor can a coordinator of the other circle reach this request
    _other, other_headers = _coordinator_headers(make_token, other_circle)
    response = _post(client, f"/api/circles/hillside/requests/{help_request.pk}/matches",
                     {"helper_id": stranger.pk}, other_headers)
    assert response.status_code == 404


def test_withdrawing_an_unanswered_offer_reopens_the_request(client, make_token, circle):
    help_request = HelpRequestFactory(member=MemberFactory(circle=circle))
    user, headers = _coordinator_headers(make_token, circle)
    match = match_propose(help_request=help_request, helper=HelperFactory(circle=circle), actor=user)
    response = client.post(f"/api/circles/riverside/matches/{match.pk}/withdraw", **headers)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.OPEN
    assert client.post(f"/api/circles/riverside/matches/{match.pk}/withdraw", **headers).status_code == 200


def test_an_accepted_match_cannot_be_withdrawn(client, make_token, circle, other_circle):
    visit, _coordinator = arranged_visit(circle=circle)
    _user, headers = _coordinator_headers(make_token, circle)
    response = client.post(f"/api/circles/riverside/matches/{visit.match_id}/withdraw", **headers)
    assert response.status_code == 409
    assert Match.objects.get(pk=visit.match_id).status == MatchStatus.ACCEPTED
    _other, other_headers = _coordinator_headers(make_token, other_circle)
    assert client.post(f"/api/circles/hillside/matches/{visit.match_id}/withdraw", **other_headers).status_code == 404


def test_a_coordinator_confirms_a_visit_and_the_member_pays_once(client, make_token, circle):
    # Given an arranged visit that has started, and a member with tokens
    member = MemberFactory(circle=circle)
    give_tokens(member, 20)
    visit, _coordinator = arranged_visit(circle=circle, member=member, starts_at=in_days(1))
    visit.__class__.objects.filter(pk=visit.pk).update(planned_start=timezone.now() - dt.timedelta(hours=2))
    _user, headers = _coordinator_headers(make_token, circle)
    # When the coordinator confirms it, twice
    first = client.post(f"/api/circles/riverside/visits/{visit.pk}/confirm", **headers)
    again = client.post(f"/api/circles/riverside/visits/{visit.pk}/confirm", **headers)
    # Then it is complete and paid, once
    assert first.status_code == 200, first.content
    assert first.json()["payment"] == VisitPayment.PAID
    assert first.json()["completed_at"] is not None
    assert again.json() == first.json()
    assert Account.objects.get(member=member).balance_quarters == 20 - 4


def test_a_visit_not_yet_started_cannot_be_confirmed(client, make_token, circle, other_circle):
    visit, _coordinator = arranged_visit(circle=circle)
    _user, headers = _coordinator_headers(make_token, circle)
    assert client.post(f"/api/circles/riverside/visits/{visit.pk}/confirm", **headers).status_code == 409
    _other, other_headers = _coordinator_headers(make_token, other_circle)
    assert client.post(f"/api/circles/hillside/visits/{visit.pk}/confirm", **other_headers).status_code == 404
    assert client.post(f"/api/circles/riverside/visits/{visit.pk}/confirm", **other_headers).status_code == 403


def test_recording_a_payment_twice_with_the_same_key_pays_once(client, make_token, circle):
    # Given a member and a bundle on sale
    member = MemberFactory(circle=circle)
    bundle = TokenBundleFactory(circle=circle, quarters=12, price_pence=3000)
    user, headers = _coordinator_headers(make_token, circle)
    body = {"purpose": "tokens", "method": "cash", "amount_pence": 3000, "bundle_id": bundle.pk}
    path = f"/api/circles/riverside/members/{member.pk}/payments"
    # When the coordinator's system records it, and retries
    first = _post(client, path, body, headers, key="pay-1")
    again = _post(client, path, body, headers, key="pay-1")
    # Then one payment is recorded and the tokens are credited once
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    payment = Payment.objects.get()
    assert payment.recorded_by == user
    assert payment.status == "succeeded"
    assert Account.objects.get(member=member).balance_quarters == 12
    # And the same key for a different payment is refused
    other = _post(client, path, {**body, "amount_pence": 2000}, headers, key="pay-1")
    assert other.status_code == 422
    assert Payment.objects.count() == 1


def test_payment_input_the_service_refuses_is_a_422(client, make_token, circle):
    member = MemberFactory(circle=circle)
    _user, headers = _coordinator_headers(make_token, circle)
    path = f"/api/circles/riverside/members/{member.pk}/payments"
    response = _post(client, path, {"purpose": "tokens", "method": "cash", "amount_pence": 3000}, headers, key="p")
    assert response.status_code == 422
    assert "body:bundle_id" in field_errors(response)
    assert _post(client, path, {"purpose": "fee", "method": "cash", "amount_pence": 1000}, headers).status_code == 422
    assert not Payment.objects.exists()


def test_payments_for_another_circles_member_are_refused(client, make_token, circle, other_circle):
    stranger = MemberFactory(circle=other_circle)
    _user, headers = _coordinator_headers(make_token, circle)
    body = {"purpose": "fee", "method": "cash", "amount_pence": 1000}
    assert _post(client, f"/api/circles/riverside/members/{stranger.pk}/payments", body, headers,
                 key="x").status_code == 404
    assert _post(client, f"/api/circles/hillside/members/{stranger.pk}/payments", body, headers,
                 key="y").status_code == 403
    assert not Payment.objects.exists()


def test_granting_tokens_twice_with_the_same_key_grants_once(client, make_token, circle):
    member = MemberFactory(circle=circle)
    _user, headers = _coordinator_headers(make_token, circle)
    path = f"/api/circles/riverside/members/{member.pk}/grants"
    first = _post(client, path, {"quarters": 8, "memo": "Thank you"}, headers, key="g-1")
    again = _post(client, path, {"quarters": 8, "memo": "Thank you"}, headers, key="g-1")
    assert first.status_code == 201, first.content
    assert first.json()["quarters"] == 8
    assert again.json()["transfer_id"] == first.json()["transfer_id"]
    assert Account.objects.get(member=member).balance_quarters == 8
    assert Transfer.objects.filter(kind="grant").count() == 1
    assert ApiIdempotencyKey.objects.get().operation == "circles.member_tokens_grant"


def test_the_same_key_from_two_tokens_makes_two_grants(client, make_token, circle):
    member = MemberFactory(circle=circle)
    _first_user, first = _coordinator_headers(make_token, circle)
    _second_user, second = _coordinator_headers(make_token, circle)
    path = f"/api/circles/riverside/members/{member.pk}/grants"
    assert _post(client, path, {"quarters": 4}, first, key="same").status_code == 201
    assert _post(client, path, {"quarters": 4}, second, key="same").status_code == 201
    assert Account.objects.get(member=member).balance_quarters == 8


def test_a_member_token_cannot_grant_tokens(client, make_token, circle):
    member = MemberFactory(circle=circle)
    headers = _member_headers(make_token, member)
    response = _post(client, f"/api/circles/riverside/members/{member.pk}/grants", {"quarters": 8}, headers, key="g")
    assert response.status_code == 403
    assert not Account.objects.filter(member=member).exists()


# --- Making a token ------------------------------------------------------------------------------

def test_the_token_page_offers_circle_scopes_not_tied_to_an_organisation(client, circle):
    # Given a coordinator who is also an administrator of an organisation
    from localsocial.api.models import ApiToken
    from tests.factories import MembershipFactory

    user = coordinator_of(circle)
    organisation = MembershipFactory(user=user, role="administrator").organisation
    sign_in_verified(client, user)  # staff of an organisation sign in with a second factor
    page = client.get("/developers/tokens/new/").content.decode()
    assert 'value="circles:member"' in page
    assert 'value="circles:coordinate"' in page
    # When they make a circles token, choosing the organisation too
    response = client.post("/developers/tokens/new/", {
        "name": "Circle desk", "scopes": ["circles:coordinate"], "organisation": str(organisation.pk),
    })
    # Then the token acts only as them, for no organisation, and works in their circle
    assert response.status_code == 302
    token = ApiToken.objects.get(user=user)
    assert token.scopes == ["circles:coordinate"]
    assert token.organisation is None
    secret = client.get(response["Location"]).content.decode().split('value="ls_')[1].split('"')[0]
    client.logout()
    assert client.get("/api/circles/riverside/queue/", **bearer("ls_" + secret)).status_code == 200


def test_the_queue_costs_the_same_however_long_it_is(client, make_token, circle, django_assert_max_num_queries):
    # Given six requests, three of them offered to helpers
    user, headers = _coordinator_headers(make_token, circle)
    for n in range(6):
        help_request = HelpRequestFactory(member=MemberFactory(circle=circle), place=HelpPlace.OUT)
        if n % 2:
            match_propose(help_request=help_request, helper=HelperFactory(circle=circle), actor=user)
    # When the coordinator reads the queue, then it is a fixed number of queries
    with django_assert_max_num_queries(10):
        response = client.get("/api/circles/riverside/queue/", **headers)
    items = response.json()["items"]
    assert len(items) == 6
    assert sum(1 for item in items if item["match"] and item["match"]["status"] == "offered") == 3
