"""Shared set-up for the help tests (requests, matching, visits): factories for the help
models, a member with tokens, and the help pages' addresses while circles/urls.py does not
list them yet.  (No tests here.)"""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from localsocial.circles.models import (
    CircleCoordinator,
    HelpCategory,
    HelperAvailability,
    HelperSkill,
    HelpPlace,
    HelpRequest,
    Member,
)
from localsocial.circles.services import ledger
from localsocial.circles.services.help import match_propose, match_respond
from tests.circles.factories import CircleFactory, CoordinatorFactory, HelperFactory, MemberFactory
from tests.factories import UserFactory


def in_days(days: float, hour: int = 10) -> dt.datetime:
    """A time ``days`` from now at ``hour`` o'clock, local time."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


class HelpRequestFactory(factory.django.DjangoModelFactory):
    """A request for an hour of gardening at the member's home in three days."""

    class Meta:
        model = HelpRequest

    member = factory.SubFactory(MemberFactory)
    circle = factory.SelfAttribute("member.circle")
    category = HelpCategory.GARDEN
    description = "Cut back the hedge"
    starts_at = factory.LazyFunction(lambda: in_days(3))
    estimated_quarters = 4
    place = HelpPlace.HOME
    idempotency_key = factory.Sequence(lambda n: f"request-{n}")
    created_by = factory.SelfAttribute("member.user")


def skilled(helper, *categories, days=(), starts=dt.time(9), ends=dt.time(17)):  # type: ignore[no-untyped-def]
    for category in categories:
        HelperSkill.objects.create(helper=helper, category=category)
    for weekday in days:
        HelperAvailability.objects.create(helper=helper, weekday=weekday, starts=starts, ends=ends)
    return helper


def give_tokens(member: Member, quarters: int) -> None:
    ledger.tokens_grant(circle=member.circle, member=member, quarters=quarters,
                        idempotency_key=f"grant:{member.pk}:{quarters}")


def coordinator_of(circle) -> object:  # type: ignore[no-untyped-def]
    return CoordinatorFactory(circle=circle, user=UserFactory()).user


def arranged_visit(*, circle=None, helper=None, member=None, **request_fields):  # type: ignore[no-untyped-def]
    """A request matched to a helper who accepted: returns (visit, coordinator)."""
    circle = circle or CircleFactory()
    coordinator = CircleCoordinator.objects.filter(circle=circle).first()
    coordinator_user = coordinator.user if coordinator else coordinator_of(circle)
    member = member or MemberFactory(circle=circle)
    helper = helper or HelperFactory(circle=circle)
    help_request = HelpRequestFactory(member=member, **request_fields)
    match = match_propose(help_request=help_request, helper=helper, actor=coordinator_user)
    visit = match_respond(match=match, actor=helper.user, accept=True)
    assert visit is not None
    return visit, coordinator_user
