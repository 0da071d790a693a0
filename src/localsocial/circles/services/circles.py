"""A circle's settings, its token bundles, its partner organisations and its coordinators,
and starting a new circle.

Every function here is for the circle's coordinators (``circles.coordinate``), except
``circle_create`` (site administrators only), and is audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device

from localsocial.accounts.models import User
from localsocial.accounts.rules import is_site_admin
from localsocial.accounts.selectors import user_get_by_email
from localsocial.circles.models import (
    Account,
    AccountKind,
    Circle,
    CircleCoordinator,
    CirclePartner,
    TokenBundle,
)
from localsocial.circles.page_groups import circle_pages_changed
from localsocial.circles.selectors.membership import coordinator_required
from localsocial.circles.services.ledger import circle_accounts_ensure
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record, model_snapshot
from localsocial.directory.models import Area, Organisation

SETTINGS_FIELDS = [
    "description", "annual_fee_pence", "minimum_age", "welcome_quarters", "minimum_balance_quarters",
    "renewal_reminder_days", "is_active",
]
# Words that cannot be a circle's short name: other circles pages use them in their addresses.
RESERVED_SLUGS = frozenset({
    "statement", "helpers", "help", "requests", "offers", "visits", "matching", "reports", "events",
    "referrals", "coordinate", "admin", "new", "api", "pay", "accounts",
})
# A circle's short name in a URL pattern, never one of the reserved words.
SLUG_URL = r"(?P<slug>(?!(?:" + "|".join(sorted(RESERVED_SLUGS)) + r")/)[-a-zA-Z0-9_]+)"


@transaction.atomic
def circle_settings_update(*, circle: Circle, actor: User,
                           **changes: Any) -> Circle:
    """Change the circle's settings (any of ``SETTINGS_FIELDS``).  A new lowest balance also
    applies to members' accounts that are at or above it already (an account below it keeps
    its old limit until it is back above: the database never lets a limit break)."""
    coordinator_required(actor, circle)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not a circle setting: {sorted(unknown)}")
    errors = {}
    if changes.get("minimum_balance_quarters", 0) > 0:
        errors["minimum_balance_quarters"] = _("The lowest balance must be 0 or less")
    if changes.get("minimum_age") is not None and not 0 < changes["minimum_age"] <= 120:
        errors["minimum_age"] = _("Enter an age from 1 to 120, or leave it empty for any age")
    if errors:
        raise ValidationError(errors)
    circle = Circle.objects.select_for_update().get(pk=circle.pk)
    before = model_snapshot(circle, SETTINGS_FIELDS)
    for name, value in changes.items():
        setattr(circle, name, value)
    circle.save(update_fields=list(changes))
    if "minimum_balance_quarters" in changes:
        Account.objects.filter(
            circle=circle, kind=AccountKind.MEMBER, balance_quarters__gte=circle.minimum_balance_quarters
        ).update(minimum_quarters=circle.minimum_balance_quarters)
    audit_record(actor=actor, action="circles.settings_update", target=circle, before=before,
                 after=model_snapshot(circle, SETTINGS_FIELDS))
    circle_pages_changed()
    return circle


def _bundle_validate(name: str, quarters: int, price_pence: int) -> None:
    errors = {}
    if not name.strip():
        errors["name"] = _("Enter a name for the bundle, like 3 tokens")
    if quarters <= 0:
        errors["tokens"] = _("Enter a number of tokens more than 0")
    if price_pence <= 0:
        errors["price"] = _("Enter a price more than £0")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def bundle_save(*, circle: Circle, actor: User, name: str, quarters: int, price_pence: int,
                bundle: TokenBundle | None = None) -> TokenBundle:
    """Add a bundle (``bundle`` None) or change one; a name is used once per circle."""
    coordinator_required(actor, circle)
    if bundle is not None and bundle.circle_id != circle.pk:
        raise PermissionDenied(_("This bundle belongs to another circle."))
    _bundle_validate(name, quarters, price_pence)
    before = model_snapshot(bundle, ["name", "quarters", "price_pence"]) if bundle else {}
    target = bundle or TokenBundle(circle=circle)
    target.name, target.quarters, target.price_pence = " ".join(name.split()), quarters, price_pence
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as error:
        raise ValidationError({"name": _("There is already a bundle with this name")}) from error
    audit_record(actor=actor, action="circles.bundle_update" if bundle else "circles.bundle_create", target=target,
                 before=before, after=model_snapshot(target, ["name", "quarters", "price_pence"]))
    circle_pages_changed()
    return target


@transaction.atomic
def bundle_withdraw(*, bundle: TokenBundle, actor: User, on_sale: bool = False) -> TokenBundle:
    """Take a bundle off sale (or put it back on, ``on_sale``).  It stays on past payments."""
    coordinator_required(actor, bundle.circle)
    TokenBundle.objects.filter(pk=bundle.pk).update(is_active=on_sale)
    bundle.is_active = on_sale
    audit_record(actor=actor, action="circles.bundle_on_sale" if on_sale else "circles.bundle_withdraw",
                 target=bundle)
    circle_pages_changed()
    return bundle


@transaction.atomic
def partner_add(*, circle: Circle, actor: User, organisation: Organisation) -> tuple[CirclePartner, bool]:
    """Make an organisation from the directory a partner of the circle.  Idempotent."""
    coordinator_required(actor, circle)
    partner, created = CirclePartner.objects.get_or_create(circle=circle, organisation=organisation)
    if created:
        audit_record(actor=actor, action="circles.partner_add", target=partner,
                     after={"organisation": organisation.pk})
        circle_pages_changed()
    return partner, created


@transaction.atomic
def partner_remove(*, circle: Circle, actor: User, partner_id: int) -> bool:
    """Stop a partnership.  Returns False when it was not there (already removed)."""
    coordinator_required(actor, circle)
    partner = CirclePartner.objects.filter(circle=circle, pk=partner_id).select_related("organisation").first()
    if partner is None:
        return False
    audit_record(actor=actor, action="circles.partner_remove", target=partner,
                 before={"organisation": partner.organisation_id})
    partner.delete()
    circle_pages_changed()
    return True


@transaction.atomic
def coordinator_add(*, circle: Circle, actor: User, user: User) -> tuple[CircleCoordinator, bool]:
    """Make someone a coordinator of the circle (by a coordinator or a site administrator).
    Idempotent.  A new coordinator is emailed: they must set up two-step verification before
    the coordinators' pages open for them (the site-wide middleware asks for it)."""
    coordinator_required(actor, circle)
    if not getattr(user, "is_active", False) or getattr(user, "erased_at", None) is not None:
        raise ValidationError({"email": _("This account is closed, so it cannot be a coordinator.")})
    coordinator, created = CircleCoordinator.objects.get_or_create(circle=circle, user=user)
    if created:
        audit_record(actor=actor, action="circles.coordinator_add", target=coordinator,
                     after={"user": user.pk})
        _coordinator_welcome_send(coordinator)
    return coordinator, created


def _coordinator_welcome_send(coordinator: CircleCoordinator) -> None:
    user, circle = coordinator.user, coordinator.circle
    email_send(
        to=user.email,
        subject=_("You are now a coordinator of %(circle)s") % {"circle": circle.name},
        template="circles/email/coordinator_added.txt",
        context={
            "name": user.public_name, "circle": circle.name,
            "has_two_factor": user_has_device(user, confirmed=True),
            "two_factor_url": site_url(reverse("accounts:two_factor_setup")),
            "coordinate_url": site_url(reverse("circles:coordinate_members", kwargs={"slug": circle.slug})),
        },
        language=user.preferred_language or None,
    )


def coordinator_add_by_email(*, circle: Circle, actor: User, email: str) -> tuple[CircleCoordinator, bool]:
    """``coordinator_add`` for the account with this email address.  Raises ValidationError
    (on "email") when there is no such open account; it says no more than that."""
    coordinator_required(actor, circle)
    user = user_get_by_email(email=email)
    if user is None or not user.is_active or user.erased_at is not None:
        raise ValidationError({"email": _(
            "There is no account with this email address. Ask the person to create an account "
            "first, then add them.")})
    return coordinator_add(circle=circle, actor=actor, user=user)


@transaction.atomic
def coordinator_remove(*, circle: Circle, actor: User, coordinator_id: int) -> bool:
    """Stop someone coordinating the circle (a coordinator may remove themselves).  A circle
    always keeps at least one coordinator: removing the last raises ValidationError.  Returns
    False when they were not a coordinator (already removed)."""
    coordinator_required(actor, circle)
    # Lock the circle: two coordinators removing each other at the same moment must not leave
    # the circle with nobody.
    Circle.objects.select_for_update().filter(pk=circle.pk).first()
    coordinator = CircleCoordinator.objects.filter(circle=circle, pk=coordinator_id).select_related("user").first()
    if coordinator is None:
        return False
    if not CircleCoordinator.objects.filter(circle=circle).exclude(pk=coordinator.pk).exists():
        raise ValidationError(_(
            "A circle must have at least one coordinator. Add another coordinator before removing this one."))
    audit_record(actor=actor, action="circles.coordinator_remove", target=coordinator,
                 before={"user": coordinator.user_id})
    coordinator.delete()
    return True


# --- New circles (site administrators) -----------------------------------------------------------

CREATE_FIELDS = ["name", "slug", "description", "area", "organisation", "annual_fee_pence", "minimum_age"]


@dataclass(frozen=True)
class CircleNew:
    name: str
    slug: str
    description: str = ""
    area: Area | None = None
    organisation: Organisation | None = None
    annual_fee_pence: int = 1000
    minimum_age: int | None = 50


@transaction.atomic
def circle_create(*, actor: User, details: CircleNew, coordinator_email: str) -> Circle:
    """Start a new circle with its first coordinator (the account with ``coordinator_email``),
    by a site administrator only.  Raises ValidationError by field (name, slug, annual_fee_pence,
    minimum_age, coordinator_email).  The circle's token accounts are opened at once."""
    if not is_site_admin(actor):
        raise PermissionDenied(_("Only site administrators can start a circle."))
    name, slug = " ".join(details.name.split()), details.slug.strip().lower()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the circle's name")
    elif len(name) > 200:
        errors["name"] = _("Enter a name of 200 characters or fewer")
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) or len(slug) > 80:
        errors["slug"] = _("Enter a short name of small letters, numbers and hyphens, like southwark-circle")
    elif slug in RESERVED_SLUGS:
        errors["slug"] = _("This short name is used by the website. Choose another.")
    elif Circle.objects.filter(slug=slug).exists():
        errors["slug"] = _("Another circle has this short name. Choose another.")
    if details.annual_fee_pence < 0:
        errors["annual_fee_pence"] = _("Enter a fee of £0 or more")
    if details.minimum_age is not None and not 0 < details.minimum_age <= 120:
        errors["minimum_age"] = _("Enter an age from 1 to 120, or leave it empty for any age")
    user = user_get_by_email(email=coordinator_email)
    if user is None or not user.is_active or user.erased_at is not None:
        errors["coordinator_email"] = _(
            "There is no account with this email address. Ask the person to create an account first.")
    if errors:
        raise ValidationError(errors)
    assert user is not None  # refused above otherwise
    try:
        with transaction.atomic():
            circle = Circle.objects.create(
                name=name, slug=slug, description=details.description.strip(), area=details.area,
                organisation=details.organisation, annual_fee_pence=details.annual_fee_pence,
                minimum_age=details.minimum_age,
            )
    except IntegrityError as error:  # the same short name taken at the same moment
        raise ValidationError({"slug": _("Another circle has this short name. Choose another.")}) from error
    circle_accounts_ensure(circle=circle)
    audit_record(actor=actor, action="circles.circle_create", target=circle,
                 after=model_snapshot(circle, CREATE_FIELDS))
    circle_pages_changed()
    coordinator_add(circle=circle, actor=actor, user=user)
    return circle
