"""Who may do what in circles, as ``rules`` predicates.

* ``circles.coordinate`` on a Circle: its coordinators and site administrators.
* ``circles.view_offers`` on a Circle (its offers of help, on the offers page and in the API):
  its active members, its active helpers, its coordinators and site administrators.
* ``circles.view_statement`` on an Account: the member or helper whose account it is, the
  circle's coordinators and site administrators.
* ``circles.act_for_partner`` on an Organisation: its staff, any role, including the staff of
  any organisation above it (a role applies to the whole subtree).  They may refer people to
  the circles the organisation is a partner of, and see and answer its referrals.
* ``circles.view_referral`` on a Referral: the circle's coordinators (and site
  administrators) and the partner organisation's staff.
* ``circles.update_referral`` on a Referral: for a referral in, the circle's coordinators; for
  a referral out, the partner's staff (coordinators may only close it: the service checks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import rules

from localsocial.accounts.rules import is_site_admin
from localsocial.circles.models import (
    Account,
    Circle,
    CircleCoordinator,
    Helper,
    Member,
    MemberStatus,
    Referral,
    ReferralDirection,
)
from localsocial.directory.models import Organisation, OrganisationMembership

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


@rules.predicate
def is_coordinator_of(user: User | AnonymousUser, circle: Circle | None) -> bool:
    if circle is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return CircleCoordinator.objects.filter(circle=circle, user=user).exists()


@rules.predicate
def is_active_member_of(user: User | AnonymousUser, circle: Circle | None) -> bool:
    if circle is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Member.objects.filter(circle=circle, user=user, status=MemberStatus.ACTIVE).exists()


@rules.predicate
def is_active_helper_of(user: User | AnonymousUser, circle: Circle | None) -> bool:
    if circle is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Helper.objects.filter(circle=circle, user=user, is_active=True).exists()


@rules.predicate
def owns_account(user: User | AnonymousUser, account: Account | None) -> bool:
    if account is None or not getattr(user, "is_authenticated", False):
        return False
    owner = account.member or account.helper
    return owner is not None and owner.user_id == user.pk


@rules.predicate
def coordinates_account_circle(user: User | AnonymousUser, account: Account | None) -> bool:
    return account is not None and is_coordinator_of(user, account.circle)


@rules.predicate
def is_partner_staff(user: User | AnonymousUser, organisation: Organisation | None) -> bool:
    """Staff (any role) of ``organisation`` or of one above it: one indexed query."""
    if organisation is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return OrganisationMembership.objects.filter(user=user, organisation_id__in=organisation.lineage_ids).exists()


@rules.predicate
def coordinates_referral_circle(user: User | AnonymousUser, referral: Referral | None) -> bool:
    return referral is not None and bool(user.has_perm("circles.coordinate", referral.circle))


@rules.predicate
def works_for_referral_partner(user: User | AnonymousUser, referral: Referral | None) -> bool:
    return referral is not None and is_partner_staff(user, referral.partner)


@rules.predicate
def is_referral_in(user: User | AnonymousUser, referral: Referral | None) -> bool:
    return referral is not None and referral.direction == ReferralDirection.IN


rules.add_perm("circles.coordinate", is_coordinator_of | is_site_admin)
rules.add_perm("circles.view_offers", is_active_member_of | is_active_helper_of | is_coordinator_of | is_site_admin)
rules.add_perm("circles.view_statement", owns_account | coordinates_account_circle | is_site_admin)
rules.add_perm("circles.act_for_partner", is_partner_staff)
rules.add_perm("circles.view_referral", coordinates_referral_circle | works_for_referral_partner)
rules.add_perm(
    "circles.update_referral",
    (is_referral_in & coordinates_referral_circle) | (~is_referral_in & (works_for_referral_partner | coordinates_referral_circle)),
)
