"""Role predicates and the permissions built on them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from localsocial.accounts import rules as account_rules
from localsocial.accounts.models import SiteRole
from tests.factories import MembershipFactory, RoleGrantFactory, UserFactory

pytestmark = pytest.mark.django_db


def with_role(role):
    return RoleGrantFactory(role=role).user


@pytest.mark.parametrize(
    ("predicate", "role"),
    [
        (account_rules.is_moderator, SiteRole.MODERATOR),
        (account_rules.is_circle_coordinator, SiteRole.CIRCLE_COORDINATOR),
        (account_rules.is_community_facilitator, SiteRole.COMMUNITY_FACILITATOR),
        (account_rules.is_site_admin, SiteRole.SITE_ADMIN),
    ],
)
def test_each_role_predicate_is_true_for_its_role_only(predicate, role):
    holder = with_role(role)
    others = [with_role(r) for r in SiteRole.values if r not in (role, SiteRole.SITE_ADMIN)]

    assert predicate(holder)
    assert not predicate(UserFactory())
    assert not predicate(AnonymousUser())
    for other in others:
        assert not predicate(other), other.site_roles()


@pytest.mark.parametrize(
    "predicate",
    [account_rules.is_moderator, account_rules.is_circle_coordinator, account_rules.is_community_facilitator],
)
def test_site_administrators_may_do_what_every_site_role_may(predicate):
    assert predicate(with_role(SiteRole.SITE_ADMIN))
    assert predicate(UserFactory(is_superuser=True))


def test_roles_of_deactivated_or_erased_accounts_count_for_nothing():
    inactive = RoleGrantFactory(role=SiteRole.SITE_ADMIN, user__is_active=False).user
    erased = RoleGrantFactory(role=SiteRole.MODERATOR, user__erased_at=timezone.now()).user

    assert not account_rules.is_site_admin(inactive)
    assert not account_rules.is_moderator(erased)


def test_organisation_staff_are_people_with_a_membership():
    assert account_rules.is_organisation_staff(MembershipFactory().user)
    assert not account_rules.is_organisation_staff(UserFactory())
    assert not account_rules.is_organisation_staff(AnonymousUser())


def test_only_site_administrators_may_grant_and_revoke_roles():
    admin = with_role(SiteRole.SITE_ADMIN)

    assert admin.has_perm("accounts.grant_role")
    assert admin.has_perm("accounts.revoke_role")
    assert admin.has_perm("accounts.view_people")
    for role in (SiteRole.MODERATOR, SiteRole.CIRCLE_COORDINATOR, SiteRole.COMMUNITY_FACILITATOR):
        assert not with_role(role).has_perm("accounts.grant_role")
    assert not MembershipFactory(role="administrator").user.has_perm("accounts.grant_role")
    assert not UserFactory().has_perm("accounts.grant_role")
    assert not AnonymousUser().has_perm("accounts.grant_role")


def test_site_administrators_reset_other_peoples_two_factor_not_their_own():
    admin = with_role(SiteRole.SITE_ADMIN)
    person = UserFactory()

    assert admin.has_perm("accounts.reset_two_factor", person)
    assert not admin.has_perm("accounts.reset_two_factor", admin)
    assert not with_role(SiteRole.MODERATOR).has_perm("accounts.reset_two_factor", person)


def test_people_erase_their_own_account_and_site_administrators_anyones():
    admin = with_role(SiteRole.SITE_ADMIN)
    person, stranger = UserFactory(), UserFactory()

    assert person.has_perm("accounts.erase_user", person)
    assert admin.has_perm("accounts.erase_user", person)
    assert not stranger.has_perm("accounts.erase_user", person)
    assert not with_role(SiteRole.MODERATOR).has_perm("accounts.erase_user", person)


def test_only_the_owner_may_download_their_data():
    admin = with_role(SiteRole.SITE_ADMIN)
    person = UserFactory()

    assert person.has_perm("accounts.export_data", person)
    assert not admin.has_perm("accounts.export_data", person)
