"""Circles webhooks: request.matched when a helper accepts, visit.completed when a visit is
confirmed — queued once, after commit, for the organisation that runs the circle (and those
above it) only, signed, and free of personal data."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.test import TestCase
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from localsocial.api.models import WebhookDelivery, WebhookEndpoint
from localsocial.api.services import webhook_endpoint_create
from localsocial.api.webhooks import webhook_delivery_attempt, webhook_event_queue
from localsocial.circles.models import Visit
from localsocial.circles.services.help import match_propose, match_respond, visit_confirm
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import HelpRequestFactory, coordinator_of, give_tokens
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

CIRCLE_EVENTS = ["request.matched", "visit.completed"]
SECRET = "whsec_" + base64.b64encode(b"the circles webhook's key bytes").decode()


@pytest.fixture
def dummy_tasks(settings):
    """Queue deliveries without sending them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def orgs(db):
    council = OrganisationFactory(name="Riverside Council", slug="council")
    charity = OrganisationFactory(name="Age Well Riverside", slug="age-well", parent=council)
    other = OrganisationFactory(name="Elsewhere", slug="elsewhere")
    return {"council": council, "charity": charity, "other": other}


@pytest.fixture
def circle(orgs):
    return CircleFactory(slug="riverside", organisation=orgs["charity"])


def _endpoint(organisation, url="https://hooks.example.org/in", events=CIRCLE_EVENTS):
    return WebhookEndpoint.objects.create(organisation=organisation, url=url, events=list(events), secret=SECRET)


def _member(circle):
    return MemberFactory(circle=circle, display_name="Agnes Private", phone="07700 900123",
                         postal_address="12 Secret Lane, Riverside", postcode="SE1 7PB")


def _offered(circle):
    help_request = HelpRequestFactory(member=_member(circle), description="My hip is bad, please mow the lawn")
    coordinator = coordinator_of(circle)
    helper = HelperFactory(circle=circle, display_name="Helper Harriet")
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator)
    return match, helper, coordinator


def _accept(match, helper) -> Visit:
    """A helper accepts, as the web page does: the effects run when the transaction commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit = match_respond(match=match, actor=helper.user, accept=True)
    assert visit is not None
    return visit


def _started(visit):
    Visit.objects.filter(pk=visit.pk).update(planned_start=timezone.now() - dt.timedelta(hours=2))
    visit.refresh_from_db()
    return visit


def test_accepting_a_match_queues_request_matched_for_the_running_organisation_and_above(
    orgs, circle, dummy_tasks
):
    # Given webhooks at the charity running the circle, the council above it, another
    # organisation, and one at the charity that wants only visit.completed
    charity = _endpoint(orgs["charity"])
    council = _endpoint(orgs["council"], url="https://council.example.org/in")
    _endpoint(orgs["other"], url="https://other.example.org/in")
    _endpoint(orgs["charity"], url="https://only-visits.example.org/in", events=["visit.completed"])
    match, helper, _coordinator = _offered(circle)
    # When the helper accepts
    visit = _accept(match, helper)
    # Then request.matched is queued once for the charity and the council only
    deliveries = WebhookDelivery.objects.order_by("endpoint_id")
    assert [(d.endpoint_id, d.event) for d in deliveries] == [
        (charity.pk, "request.matched"), (council.pk, "request.matched"),
    ]
    payload = deliveries[0].payload
    assert payload["id"] == f"request.matched:{visit.request_id}"
    assert payload["data"]["circle"] == {"slug": "riverside"}
    assert payload["data"]["request"]["category"] == "garden"
    assert payload["data"]["visit"]["id"] == visit.pk


def test_nothing_is_queued_before_the_change_commits(orgs, circle, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, _coordinator = _offered(circle)
    # The test's transaction never commits, and no commit callbacks are run
    match_respond(match=match, actor=helper.user, accept=True)
    assert not WebhookDelivery.objects.exists()


def test_declining_queues_nothing(orgs, circle, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, _coordinator = _offered(circle)
    with TestCase.captureOnCommitCallbacks(execute=True):
        match_respond(match=match, actor=helper.user, accept=False)
    assert not WebhookDelivery.objects.exists()


def test_visit_completed_is_queued_once_when_both_sides_have_confirmed(orgs, circle, dummy_tasks):
    endpoint = _endpoint(orgs["charity"])
    match, helper, _coordinator = _offered(circle)
    visit = _started(_accept(match, helper))
    give_tokens(visit.request.member, 8)
    member_user = visit.request.member.user
    # When only the member confirms, nothing about completion is sent
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_confirm(visit=visit, actor=member_user)
    assert not WebhookDelivery.objects.filter(event="visit.completed").exists()
    # When the helper confirms too (twice), visit.completed is queued once
    for _ in range(2):
        with TestCase.captureOnCommitCallbacks(execute=True):
            visit_confirm(visit=visit, actor=helper.user)
    completed = WebhookDelivery.objects.get(event="visit.completed")
    assert completed.endpoint == endpoint
    data = completed.payload["data"]["visit"]
    assert data["confirmed_by"] == "member_and_helper"
    assert data["payment"] == "paid"
    assert data["quarters"] == 4
    assert completed.payload["id"] == f"visit.completed:{visit.pk}"


def test_a_coordinators_confirmation_completes_the_visit_and_is_sent(orgs, circle, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, coordinator = _offered(circle)
    visit = _started(_accept(match, helper))
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_confirm(visit=visit, actor=coordinator)
    completed = WebhookDelivery.objects.get(event="visit.completed")
    assert completed.payload["data"]["visit"]["confirmed_by"] == "coordinator"
    # The member had no tokens: the payment is owed, and the payload says so
    assert completed.payload["data"]["visit"]["payment"] == "owed"


def test_payloads_hold_no_personal_data(orgs, circle, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, coordinator = _offered(circle)
    visit = _started(_accept(match, helper))
    with TestCase.captureOnCommitCallbacks(execute=True):
        visit_confirm(visit=visit, actor=coordinator)
    member = visit.request.member
    for delivery in WebhookDelivery.objects.all():
        text = json.dumps(delivery.payload)
        for private in ("Agnes", "Private", "07700", "Secret Lane", "SE1", "hip", "Harriet",
                        member.user.email, helper.user.email, coordinator.email):
            assert private not in text, (delivery.event, private)


def test_queueing_again_makes_no_second_delivery(orgs, circle, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, _coordinator = _offered(circle)
    visit = _accept(match, helper)
    with TestCase.captureOnCommitCallbacks(execute=True):
        webhook_event_queue(event="request.matched", subject_id=visit.pk)
        webhook_event_queue(event="request.matched", subject_id=visit.pk)
    assert WebhookDelivery.objects.count() == 1
    # And a visit not yet complete sends no visit.completed, even if asked
    webhook_event_queue(event="visit.completed", subject_id=visit.pk)
    assert WebhookDelivery.objects.count() == 1


def test_a_circle_not_run_by_an_organisation_sends_nothing(orgs, dummy_tasks):
    _endpoint(orgs["charity"])
    match, helper, _coordinator = _offered(CircleFactory(slug="independent"))
    _accept(match, helper)
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_is_signed_and_received(orgs, circle, receiver):
    # Given a real receiver subscribed at the running organisation (tasks run at once)
    _endpoint(orgs["charity"], url=receiver.url)
    match, helper, _coordinator = _offered(circle)
    # When the helper accepts
    visit = _accept(match, helper)
    # Then the receiver got the event, signed with the endpoint's secret
    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    assert received.headers["X-LocalSocial-Event"] == "request.matched"
    payload = Webhook(SECRET).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == payload["id"] == f"request.matched:{visit.request_id}"
    assert payload["data"]["visit"]["id"] == visit.pk
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded"
    # Sending again is refused while nothing is due: the same delivery is never sent twice at once
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "skipped"


def test_administrators_can_subscribe_to_the_circles_events(orgs):
    endpoint = webhook_endpoint_create(actor=None, organisation=orgs["charity"], url="https://hooks.example.org/x",
                                       events=["request.matched", "visit.completed", "made.up"])
    assert endpoint.events == ["request.matched", "visit.completed"]
