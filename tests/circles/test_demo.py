"""The circles' demo (``circles/demo.py``): two circles and their life, made through the services,
once, and run by ``localsocial demo`` as a registered demo step."""

from __future__ import annotations

import pytest

from localsocial.circles.demo import demo_circles_load
from localsocial.circles.models import (
    Account,
    Circle,
    Event,
    EventRsvp,
    JoinRoute,
    Member,
    Payment,
    Referral,
    Visit,
    WellbeingCheckIn,
)
from localsocial.core.demo_registry import demo_steps
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def balance(member):
    return Account.objects.get(member=member).balance_quarters


def test_the_demo_circles_load_through_the_services_once():
    UserFactory(email="coordinator@demo.invalid")
    UserFactory(email="public@demo.invalid", display_name="Alex Morgan")
    OrganisationFactory(name="Age Friendly Southwark")
    OrganisationFactory(name="Citizens Advice Southwark")

    first = demo_circles_load(coordinator_email="coordinator@demo.invalid", member_email="public@demo.invalid")
    second = demo_circles_load(coordinator_email="coordinator@demo.invalid", member_email="public@demo.invalid")

    assert first == {"circles": 2, "circle members": 3, "circle payments": 6, "circle helpers": 1,
                     "circle requests": 2, "circle events": 3, "circle referrals": 2, "wellbeing check-ins": 2}
    # The circle's life: a visit arranged with a vetted member helper, answers to an event (one
    # given by phone), a referral each way, and two check-ins three months apart.
    visit = Visit.objects.select_related("helper").get()
    assert visit.helper.display_name == "Alex Morgan"
    assert EventRsvp.objects.filter(event__title="Tea and cake afternoon").count() == 2
    assert Event.objects.get(title="Tea and cake afternoon").places_taken == 3
    assert set(Referral.objects.values_list("direction", flat=True)) == {"in", "out"}
    assert list(WellbeingCheckIn.objects.order_by("taken_on").values_list("score", flat=True)) == [8, 5]
    assert set(second.values()) == {0}
    assert Circle.objects.count() == 2
    doreen = Member.objects.get(display_name="Doreen Clarke")
    assert doreen.route == JoinRoute.ASSISTED
    assert balance(doreen) == 4 + 12 + 12  # welcome, bought, gift
    assert Payment.objects.filter(status="succeeded").count() == 6
    assert Member.objects.get(display_name="Alex Morgan").years.get().payment is not None


def test_the_circles_demo_is_a_step_after_the_platform_and_the_stories():
    steps = [step.name for step in demo_steps()]

    assert steps.index("circles") > steps.index("accounts")
    assert steps.index("circles") > steps.index("directory.postcodes")
    assert steps.index("circles") > steps.index("stories")
