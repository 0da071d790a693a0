"""Who must use two-step verification is decided by the platform's roles and by the rules the
modules register (``accounts.two_factor_rules``), not by the platform knowing the modules."""

from __future__ import annotations

import pytest

from localsocial.accounts import two_factor_rules
from localsocial.accounts.selectors import user_requires_two_factor
from localsocial.accounts.two_factor_rules import two_factor_rule_register
from tests.circles.factories import CircleFactory, CoordinatorFactory, MemberFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rules_restored():
    saved = dict(two_factor_rules._rules)
    yield
    two_factor_rules._rules = saved


def test_circles_registers_its_coordinators_and_nothing_else_is_registered():
    assert list(two_factor_rules.two_factor_rules()) == ["circles"]


def test_a_coordinator_needs_two_factor_because_circles_says_so():
    coordinator = CoordinatorFactory(circle=CircleFactory()).user
    member = MemberFactory().user

    assert user_requires_two_factor(user=coordinator)
    assert not user_requires_two_factor(user=member)

    two_factor_rules._rules.pop("circles")

    assert not user_requires_two_factor(user=coordinator)


def test_a_registered_rule_decides_and_registering_its_name_again_replaces_it():
    person = UserFactory(display_name="Facilitator")
    two_factor_rule_register("communities", lambda user: user.display_name == "Facilitator")

    assert user_requires_two_factor(user=person)

    two_factor_rule_register("communities", lambda user: False)

    assert not user_requires_two_factor(user=person)


def test_rules_are_not_asked_about_someone_signed_out_or_already_staff():
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import SiteRole
    from tests.factories import RoleGrantFactory

    two_factor_rule_register("boom", lambda user: pytest.fail("asked"))
    moderator = RoleGrantFactory(role=SiteRole.MODERATOR).user

    assert not user_requires_two_factor(user=AnonymousUser())
    assert user_requires_two_factor(user=moderator)
