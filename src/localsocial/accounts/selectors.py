"""Reads about people, their roles and their two-step verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch, QuerySet
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from localsocial.accounts.models import RoleGrant, User, email_normalise
from localsocial.accounts.two_factor_rules import two_factor_rules

BACKUP_DEVICE_NAME = "backup"


def user_is_organisation_staff(*, user: User) -> bool:
    """True when the person works for at least one organisation (cached on the user object)."""
    cached = getattr(user, "_is_org_staff_cache", None)
    if cached is None:
        from localsocial.directory.models import OrganisationMembership

        cached = OrganisationMembership.objects.filter(user=user).exists()
        user._is_org_staff_cache = cached  # type: ignore[attr-defined]
    return bool(cached)


def user_requires_two_factor(*, user: User) -> bool:
    """True for anyone who holds a role beyond member of the public: site roles (moderators,
    administrators), organisation staff, and the roles modules register in
    ``accounts.two_factor_rules`` (circle coordinators, facilitators…).  Stops at the first
    role found."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.site_roles():
        return True
    if user_is_organisation_staff(user=user):
        return True
    return any(rule(user) for rule in two_factor_rules().values())


def user_get_by_email(*, email: str) -> User | None:
    """The account with this address, whatever its case, or None."""
    return User.objects.filter(email=email_normalise(email)).first()


def user_get_awaiting_confirmation(*, user_id: Any) -> User | None:
    """The active account with this id if its email address is still unconfirmed, else None."""
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(
        pk=user_id, is_active=True, erased_at__isnull=True, email_verified_at__isnull=True
    ).first()


def user_get_for_password_reset(*, uidb64: str, token: str) -> User | None:
    """The account a password-reset link is for, if the link is genuine, unexpired and unused
    (the token changes once the password changes or the person signs in)."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True, erased_at__isnull=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@dataclass(frozen=True)
class TwoFactorStatus:
    has_authenticator: bool
    backup_codes_left: int

    @property
    def is_set_up(self) -> bool:
        return self.has_authenticator or self.backup_codes_left > 0


def two_factor_status(*, user: User) -> TwoFactorStatus:
    """Whether the person has a confirmed authenticator app, and how many backup codes are left.
    Two queries."""
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    has_app = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    left = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return TwoFactorStatus(has_authenticator=has_app, backup_codes_left=left)


def user_memberships(*, user: User) -> list[Any]:
    """The person's organisation memberships with their organisations (one query)."""
    from localsocial.directory.models import OrganisationMembership

    return list(
        OrganisationMembership.objects.filter(user=user)
        .select_related("organisation")
        .order_by("organisation__name")
    )


def user_memberships_cached(*, user: User) -> list[Any]:
    """``user_memberships``, read once per user object (one request): the account page and
    each module's "Your work" links share the one query."""
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = user_memberships(user=user)
        user._memberships_cache = cached  # type: ignore[attr-defined]
        user._is_org_staff_cache = bool(cached)  # type: ignore[attr-defined]
    return list(cached)


def _require(actor: User, perm: str, obj: Any = None) -> None:
    if not actor.has_perm(perm, obj):
        raise PermissionDenied


def people_with_site_roles(*, actor: User, page_number: Any = 1, per_page: int = 50) -> Page:
    """One page of the people who hold a site role, by email address, each with their grants.
    Site administrators only.  Three queries whatever the page length (count, page, grants)."""
    _require(actor, "accounts.view_people")
    people: QuerySet[User] = (
        User.objects.filter(role_grants__isnull=False)
        .distinct()
        .order_by("email")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.order_by("role")))
    )
    return Paginator(people, per_page).get_page(page_number)


def people_search(*, actor: User, query: str, limit: int = 20) -> list[User]:
    """Up to ``limit`` people whose email address contains ``query``, erased accounts left out.
    Site administrators only."""
    _require(actor, "accounts.view_people")
    query = email_normalise(query)
    if not query:
        return []
    return list(
        User.objects.filter(email__contains=query, erased_at__isnull=True)
        .order_by("email")
        .prefetch_related(Prefetch("role_grants", queryset=RoleGrant.objects.order_by("role")))[:limit]
    )


def person_get_for_role_admin(*, actor: User, user_id: int) -> User:
    """A person's account with their site roles, for the site administrator's page about them.
    Raises PermissionDenied for anyone else, User.DoesNotExist when there is no such person."""
    _require(actor, "accounts.view_people")
    return User.objects.prefetch_related(
        Prefetch("role_grants", queryset=RoleGrant.objects.select_related("granted_by").order_by("role"))
    ).get(pk=user_id)
