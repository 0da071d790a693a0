"""Requests for help and offers: posted by the member or by a coordinator for them (recorded),
idempotent, checked, and only within the circle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from localsocial.circles.models import (
    HelpCategory,
    HelpPlace,
    HelpRequest,
    JoinRoute,
    Offer,
    RequestStatus,
)
from localsocial.circles.services.help import help_request_cancel, help_request_create, offer_create
from localsocial.core.models import AuditEvent
from tests.circles.factories import CircleFactory, HelperFactory, MemberFactory
from tests.circles.test_help_support import coordinator_of, in_days

pytestmark = pytest.mark.django_db


def ask(member, actor, **overrides):
    arguments = {
        "category": HelpCategory.TECH, "description": "Set up video calls on my tablet", "starts_at": in_days(2),
        "estimated_quarters": 4, "place": HelpPlace.HOME, "idempotency_key": "form-1",
    }
    arguments.update(overrides)
    return help_request_create(member=member, actor=actor, **arguments)


def test_a_member_asks_for_help_and_the_coordinators_are_told(django_capture_on_commit_callbacks):
    circle = CircleFactory(name="Southwark Circle")
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, postal_address="1 High Street", postcode="SE1 7PB")

    with django_capture_on_commit_callbacks(execute=True):
        help_request = ask(member, member.user)

    assert help_request.status == RequestStatus.OPEN
    assert help_request.place_details == "1 High Street"
    assert help_request.postcode == "SE1 7PB"
    assert help_request.on_behalf_of is None
    assert help_request.created_by == member.user
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert "Help with phones, computers and the internet" in mail.outbox[0].body


def test_sending_the_same_form_twice_makes_one_request():
    member = MemberFactory()

    first = ask(member, member.user)
    second = ask(member, member.user)

    assert first.pk == second.pk
    assert HelpRequest.objects.count() == 1


def test_a_coordinator_asks_for_help_for_a_member_and_it_is_recorded_as_on_their_behalf():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle, route=JoinRoute.ASSISTED, consent_given_at=timezone.now(),
                           entered_by=coordinator)

    help_request = ask(member, coordinator)

    assert help_request.created_by == coordinator
    assert help_request.on_behalf_of == member.user
    event = AuditEvent.objects.get(action="circles.help_request_create")
    assert event.actor == coordinator
    assert event.on_behalf_of == member.user


def test_a_coordinator_cannot_ask_for_a_member_whose_consent_is_not_recorded():
    circle = CircleFactory()
    coordinator = coordinator_of(circle)
    member = MemberFactory(circle=circle)

    with pytest.raises(ValidationError, match="consent"):
        ask(member, coordinator)

    assert not HelpRequest.objects.exists()


def test_a_coordinator_of_another_circle_cannot_ask_for_a_member():
    member = MemberFactory(consent_given_at=timezone.now())
    stranger = coordinator_of(CircleFactory())

    with pytest.raises(PermissionDenied):
        ask(member, stranger)


def test_another_member_cannot_ask_for_someone_else():
    member = MemberFactory()
    other = MemberFactory(circle=member.circle)

    with pytest.raises(PermissionDenied):
        ask(member, other.user)


def test_bad_input_is_refused_with_a_message_for_each_field():
    member = MemberFactory()

    with pytest.raises(ValidationError) as caught:
        ask(member, member.user, description="  ", starts_at=timezone.now() - dt.timedelta(hours=1),
            estimated_quarters=0, place="moon")

    assert caught.value.message_dict == {
        "description": ["Say what you need help with"],
        "starts_at": ["The time must be in the future"],
        "estimated_quarters": ["Choose how long it should take, up to 8 hours"],
        "place": ["Choose where the help is needed"],
    }
    assert not HelpRequest.objects.exists()


def test_a_member_asks_for_help_from_an_offer_and_gets_the_offers_kind_of_help():
    circle = CircleFactory()
    helper = HelperFactory(circle=circle)
    offer = offer_create(helper=helper, actor=helper.user, category=HelpCategory.GARDEN, title="Mowing lawns",
                         place=HelpPlace.HOME)
    member = MemberFactory(circle=circle)

    help_request = ask(member, member.user, offer=offer)

    assert help_request.offer == offer
    assert help_request.category == HelpCategory.GARDEN


def test_an_offer_of_another_circle_cannot_be_asked_for():
    helper = HelperFactory()
    offer = offer_create(helper=helper, actor=helper.user, category=HelpCategory.GARDEN, title="Mowing",
                         place=HelpPlace.OUT)
    member = MemberFactory()

    with pytest.raises(ValidationError, match="no longer listed"):
        ask(member, member.user, offer=offer)


def test_only_the_helper_or_a_coordinator_can_list_an_offer():
    helper = HelperFactory()
    someone = MemberFactory(circle=helper.circle)

    with pytest.raises(PermissionDenied):
        offer_create(helper=helper, actor=someone.user, category=HelpCategory.TECH, title="Phones",
                     place=HelpPlace.REMOTE)

    assert not Offer.objects.exists()


def test_a_member_cancels_a_request_that_has_no_helper_yet():
    member = MemberFactory()
    help_request = ask(member, member.user)

    help_request_cancel(help_request=help_request, actor=member.user)
    help_request_cancel(help_request=help_request, actor=member.user)

    help_request.refresh_from_db()
    assert help_request.status == RequestStatus.CANCELLED
