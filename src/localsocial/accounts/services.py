"""Writes about people: signing up, confirming email addresses, passwords, profile, site roles,
two-step verification, downloading one's data and erasing an account.

Every email goes through ``core.email.email_send``: it is sent in the background once the
transaction commits, in the recipient's language, with links built from ``settings.SITE_URL``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from localsocial.accounts import personal_data
from localsocial.accounts.models import RoleGrant, SiteRole, User, email_normalise
from localsocial.accounts.selectors import BACKUP_DEVICE_NAME
from localsocial.accounts.tokens import email_confirmation_make, email_confirmation_read
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record

BACKUP_CODE_COUNT = 10
AUTHENTICATOR_DEVICE_NAME = "Authenticator app"


class AccountActionRefusedError(Exception):
    """A change the rules do not allow; ``str(exc)`` is a plain-English reason to show."""


# --- Email helpers ------------------------------------------------------------------------------


def _send_to_user(user: User, *, subject: Any, template: str, context: dict[str, Any],
                  to: str | None = None) -> None:
    email_send(
        to=to or user.email,
        subject=subject,
        template=template,
        context={"user": user, "display_name": user.display_name, **context},
        language=user.preferred_language or None,
    )


def _links() -> dict[str, str]:
    return {
        "sign_in_url": site_url(reverse("accounts:sign_in")),
        "password_reset_url": site_url(reverse("accounts:password_reset")),
    }


def _with_next(path: str, next_path: str) -> str:
    """``path`` carrying where the person was going (already checked to be on this site)."""
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path


def _confirmation_email_send(user: User, next_path: str = "") -> None:
    token = email_confirmation_make(user_id=user.pk, sent_to=user.email)
    _send_to_user(
        user,
        subject=_("Confirm your email address for Local Social"),
        template="accounts/email/confirm_email.txt",
        context={"confirm_url": site_url(_with_next(reverse("accounts:verify_email", args=[token]), next_path))},
    )


def _already_registered_email_send(user: User, next_path: str = "") -> None:
    _send_to_user(
        user,
        subject=_("You already have a Local Social account"),
        template="accounts/email/already_registered.txt",
        context={**_links(), "sign_in_url": site_url(_with_next(reverse("accounts:sign_in"), next_path))},
    )


# --- Signing up and confirming an address ------------------------------------------------------


@transaction.atomic
def user_sign_up(*, email: str, display_name: str, password: str, language: str = "",
                 next_path: str = "") -> User | None:
    """Create an account that cannot be used until its email address is confirmed, and send
    the confirmation link.  ``next_path`` (a page on this site, checked by the caller) is where
    the person was going: the links in the email lead back to it after signing in.

    Whether the address already has an account is never revealed to the person signing up:
    the owner of an existing account is sent a "you already have an account" email instead (or,
    if that account is still unconfirmed, a fresh confirmation link), and None is returned.
    """
    email = email_normalise(email)
    existing = User.objects.filter(email=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, display_name=display_name.strip(), preferred_language=language
                )
        except IntegrityError:  # signed up twice at the same moment
            existing = User.objects.filter(email=email).first()
        else:
            _confirmation_email_send(user, next_path)
            return user
    # Hash the password anyway, so that the time taken does not tell who has an account.
    make_password(password)
    if existing is not None and existing.is_active:
        if existing.is_email_verified:
            _already_registered_email_send(existing, next_path)
        else:
            _confirmation_email_send(existing, next_path)
    return None


@transaction.atomic
def user_confirmation_resend(*, user: User) -> bool:
    """Send a fresh confirmation link to an account whose address is not yet confirmed.
    Returns False (and sends nothing) when there is nothing to confirm."""
    if user.is_email_verified or not user.is_active or user.erased_at is not None:
        return False
    _confirmation_email_send(user)
    return True


class ConfirmOutcome(enum.Enum):
    CONFIRMED = "confirmed"  # a new account's address is now confirmed
    ALREADY_CONFIRMED = "already_confirmed"  # the link was used before; nothing to do
    CHANGED = "changed"  # the account's address is now the new one
    TAKEN = "taken"  # the new address belongs to another account by now
    INVALID = "invalid"  # forged, expired, or superseded by a later change


@transaction.atomic
def user_email_confirm(*, token: str) -> ConfirmOutcome:
    """Act on an email-confirmation link: confirm a new account's address, or move an account
    to the new address it asked for.  Links are single-use in effect: once the account's
    address is confirmed or changed, an old link is refused or does nothing."""
    confirmation = email_confirmation_read(token)
    if confirmation is None:
        return ConfirmOutcome.INVALID
    user = (
        User.objects.select_for_update()
        .filter(pk=confirmation.user_id, is_active=True, erased_at__isnull=True)
        .first()
    )
    if user is None or user.email != confirmation.sent_to:
        return ConfirmOutcome.INVALID
    now = timezone.now()
    if confirmation.new_email is None:
        if user.is_email_verified:
            return ConfirmOutcome.ALREADY_CONFIRMED
        user.email_verified_at = now
        user.save(update_fields=["email_verified_at"])
        return ConfirmOutcome.CONFIRMED
    new_email = email_normalise(confirmation.new_email)
    if User.objects.filter(email=new_email).exclude(pk=user.pk).exists():
        return ConfirmOutcome.TAKEN
    old_email = user.email
    user.email, user.email_verified_at = new_email, now
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified_at"])
    except IntegrityError:
        return ConfirmOutcome.TAKEN
    _send_to_user(
        user,
        to=old_email,
        subject=_("Your Local Social email address has changed"),
        template="accounts/email/email_changed.txt",
        context={"new_email": new_email, **_links()},
    )
    return ConfirmOutcome.CHANGED


@transaction.atomic
def user_email_change_request(*, user: User, new_email: str) -> None:
    """Start moving an account to a new address: send a confirmation link to the new address
    and a warning to the current one.  Nothing changes until the link is followed.

    If the new address already has an account, its owner is told so instead, and the person
    asking is not (so the form cannot be used to find out who has an account)."""
    new_email = email_normalise(new_email)
    if new_email == user.email:
        return
    other = User.objects.filter(email=new_email).first()
    if other is not None:
        _already_registered_email_send(other)
        return
    token = email_confirmation_make(user_id=user.pk, sent_to=user.email, new_email=new_email)
    _send_to_user(
        user,
        to=new_email,
        subject=_("Confirm your new email address for Local Social"),
        template="accounts/email/confirm_new_email.txt",
        context={"confirm_url": site_url(reverse("accounts:verify_email", args=[token]))},
    )
    _send_to_user(
        user,
        subject=_("Someone asked to change your Local Social email address"),
        template="accounts/email/email_change_requested.txt",
        context={"new_email": new_email, **_links()},
    )


# --- Passwords and profile ---------------------------------------------------------------------


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Email a link to choose a new password, if an account can use one at this address.
    Says nothing either way, so the form cannot be used to find out who has an account.
    The link expires after ``PASSWORD_RESET_TIMEOUT`` and stops working once used."""
    user = User.objects.filter(
        email=email_normalise(email), is_active=True, erased_at__isnull=True
    ).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    _send_to_user(
        user,
        subject=_("Reset your Local Social password"),
        template="accounts/email/password_reset.txt",
        context={"reset_url": site_url(reverse("accounts:password_reset_confirm", args=[uid, token]))},
    )


def _password_changed_notice(user: User) -> None:
    _send_to_user(
        user,
        subject=_("Your Local Social password has changed"),
        template="accounts/email/password_changed.txt",
        context=_links(),
    )


@transaction.atomic
def password_reset_complete(*, user: User, password: str) -> User:
    """Set the new password chosen through a reset link.  Following the link proves the person
    reads this address, so an unconfirmed address becomes confirmed.  Every session the person
    had is ended (the session check includes the password)."""
    user.set_password(password)
    fields = ["password"]
    if not user.is_email_verified:
        user.email_verified_at = timezone.now()
        fields.append("email_verified_at")
    user.save(update_fields=fields)
    _password_changed_notice(user)
    return user


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """Change a signed-in person's password and tell them by email.  Their other sessions end;
    the view keeps the current one (``update_session_auth_hash``)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    _password_changed_notice(user)
    return user


@transaction.atomic
def user_profile_update(*, user: User, display_name: str, preferred_language: str) -> User:
    """Change the name shown beside what the person writes, and the language of the site and
    of our emails to them."""
    user.display_name = display_name.strip()
    user.preferred_language = preferred_language
    user.save(update_fields=["display_name", "preferred_language"])
    return user


# --- Site roles ----------------------------------------------------------------------------------


def _authorise(actor: User | None, perm: str, obj: Any = None) -> None:
    """``actor=None`` is the system itself (a management command); people need the permission."""
    if actor is not None and not actor.has_perm(perm, obj):
        raise PermissionDenied


def _forget_roles(user: User) -> None:
    user.__dict__.pop("_site_roles_cache", None)


@transaction.atomic
def role_grant(*, actor: User | None, user: User, role: str) -> RoleGrant:
    """Give a person a site role.  Site administrators only (or the system).  Idempotent:
    granting a role the person already holds changes nothing and records nothing.  A new grant
    is audited and the person is told by email (and that they will need two-step verification)."""
    _authorise(actor, "accounts.grant_role")
    if role not in SiteRole.values:
        raise AccountActionRefusedError(_("Choose a role from the list."))
    if user.erased_at is not None or not user.is_active:
        raise AccountActionRefusedError(_("This account has been deleted, so it cannot have a role."))
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, defaults={"granted_by": actor, "granted_at": timezone.now()}
    )
    if created:
        _forget_roles(user)
        audit_record(actor=actor, action="accounts.role_grant", target=user,
                     after={"role": role})
        _send_to_user(
            user,
            subject=_("You have a new role on Local Social"),
            template="accounts/email/role_granted.txt",
            context={"role_name": SiteRole(role).label, **_links()},
        )
    return grant


@transaction.atomic
def role_revoke(*, actor: User | None, user: User, role: str) -> bool:
    """Take a site role away.  Site administrators only (or the system).  Idempotent: returns
    False and records nothing when the person did not hold the role.  The last site
    administrator cannot be removed, so the site is never left without one."""
    _authorise(actor, "accounts.revoke_role")
    if role == SiteRole.SITE_ADMIN:
        # Lock every site-administrator grant so two administrators cannot remove each other
        # at the same moment and leave nobody.
        admin_grants = list(
            RoleGrant.objects.select_for_update().filter(role=SiteRole.SITE_ADMIN).values_list("user_id", flat=True)
        )
        if admin_grants == [user.pk]:
            raise AccountActionRefusedError(
                _("You cannot remove the last site administrator. Make someone else a site administrator first.")
            )
    deleted, _details = RoleGrant.objects.filter(user=user, role=role).delete()
    if not deleted:
        return False
    _forget_roles(user)
    audit_record(actor=actor, action="accounts.role_revoke", target=user,
                 before={"role": role})
    return True


# --- Two-step verification ---------------------------------------------------------------------


@transaction.atomic
def two_factor_setup_begin(*, user: User) -> Any:
    """The authenticator-app device being set up for this person: unconfirmed, so it does not
    count until they type a code from it.  The same one is returned until it is confirmed, so
    reloading the page keeps the same secret."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_DEVICE_NAME, confirmed=False)
    return device


def _code_clean(code: str) -> str:
    return "".join(ch for ch in code if ch.isalnum()).lower()


@transaction.atomic
def backup_codes_replace(*, user: User) -> list[str]:
    """Make 10 new single-use backup codes for the person, replacing any they had.
    Returns the codes: this is the only time they can be shown."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < BACKUP_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def two_factor_setup_confirm(*, user: User, code: str) -> tuple[Any, list[str]] | None:
    """Confirm the authenticator app being set up with a code from it.  On success the app
    replaces any earlier one, 10 new backup codes replace any earlier ones, and
    ``(device, codes)`` is returned; on a wrong code, None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False).order_by("-id").first()
    )
    code = _code_clean(code)
    if device is None or len(code) != device.digits or not code.isdigit() or not device.verify_token(code):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, backup_codes_replace(user=user)


class CodeCheck(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    TOO_MANY = "too_many"  # the device is pausing after wrong codes


@transaction.atomic
def two_factor_code_check(*, user: User, code: str) -> tuple[CodeCheck, Any]:
    """Check a code from the person's authenticator app (6 digits) or one of their backup
    codes.  A backup code works once only: it is deleted when used.  Returns the outcome and,
    when accepted, the device that accepted it (for ``django_otp.login``)."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = _code_clean(code)
    if not code:
        return CodeCheck.WRONG, None
    # Only the kind of device the code could come from is tried, so that a mistyped backup
    # code does not make the authenticator app pause, and the other way round.
    model: Any = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    devices = list(model.objects.select_for_update().filter(user=user, confirmed=True))
    paused = False
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            paused = True
            continue
        if device.verify_token(code):
            return CodeCheck.ACCEPTED, device
    return (CodeCheck.TOO_MANY if paused else CodeCheck.WRONG), None


@transaction.atomic
def two_factor_reset(*, actor: User, user: User) -> int:
    """Remove every two-step device and backup code of another person, who lost their phone.
    Site administrators only, never on themselves.  Their current sessions stop counting as
    verified; they will set up an app again next time they sign in.  Audited; the person is told
    by email.  Returns the number of devices removed."""
    from django_otp import devices_for_user

    _authorise(actor, "accounts.reset_two_factor", user)
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied
    removed = 0
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
        removed += 1
    audit_record(actor=actor, action="accounts.two_factor_reset", target=user,
                 before={"devices": removed})
    _send_to_user(
        user,
        subject=_("Your Local Social two-step verification was reset"),
        template="accounts/email/two_factor_reset.txt",
        context=_links(),
    )
    return removed


# --- Personal data: download and erasure --------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_export_data(*, user: User) -> dict[str, Any]:
    """Everything Local Social holds about the person, as JSON-ready data: one section per
    registered module (see ``accounts.personal_data``), about this person only."""
    data: dict[str, Any] = {
        "export": {
            "service": "Local Social",
            "format_version": 1,
            "exported_at": timezone.now().isoformat(),
            "account_id": user.pk,
        }
    }
    for name, section in personal_data.export_sections().items():
        data[name] = section(user)
    return data


@transaction.atomic
def user_erase(*, user: User, actor: User | None = None) -> User:
    """Erase a person's account: every registered module removes or pseudonymises its personal
    data first, then the account is pseudonymised in place (so everything that points to it
    stays valid and what they wrote stays, by "Former member"): the email becomes
    ``erased-<id>@invalid``, the display name is cleared, the password becomes unusable, and
    two-step devices, organisation memberships and site roles are removed.  Every session
    ends (the session check includes the password).  The audit log keeps its rows.

    ``actor`` is the person doing it: the owner (the default) or a site administrator.
    Erasing an erased account does nothing."""
    from django_otp import devices_for_user

    actor = actor or user
    if user.erased_at is not None:
        return user
    _authorise(actor, "accounts.erase_user", user)
    for _name, eraser in personal_data.erasers().items():
        eraser(user)
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
    RoleGrant.objects.filter(user=user).delete()
    _forget_roles(user)
    user.email = f"erased-{user.pk}@invalid"
    user.display_name = ""
    user.preferred_language = ""
    user.set_unusable_password()
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.email_verified_at = None
    user.erased_at = timezone.now()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    audit_record(
        actor=actor,
        action="accounts.erase",
        target=user,
        after={"by": "owner" if actor.pk == user.pk else "site administrator"},
    )
    return user


# --- The accounts module's own sections of the registries --------------------------------------


def _export_account(user: User) -> dict[str, Any]:
    from localsocial.accounts.selectors import two_factor_status

    status = two_factor_status(user=user)
    return {
        "email": user.email,
        "display_name": user.display_name,
        "email_confirmed_at": _iso(user.email_verified_at),
        "preferred_language": user.preferred_language,
        "joined_at": _iso(user.date_joined),
        "last_signed_in_at": _iso(user.last_login),
        "two_step_verification": {
            "authenticator_app": status.has_authenticator,
            "backup_codes_left": status.backup_codes_left,
        },
    }


def _export_site_roles(user: User) -> list[dict[str, Any]]:
    return [
        {"role": grant.role, "role_name": str(SiteRole(grant.role).label), "since": _iso(grant.granted_at)}
        for grant in RoleGrant.objects.filter(user=user).order_by("role")
    ]


def _export_memberships(user: User) -> list[dict[str, Any]]:
    from localsocial.accounts.selectors import user_memberships

    return [
        {
            "organisation": m.organisation.name,
            "organisation_id": m.organisation_id,
            "role": m.role,
            "job_title": m.job_title,
            "since": _iso(m.created_at),
        }
        for m in user_memberships(user=user)
    ]


def _export_audit_events(user: User) -> dict[str, list[dict[str, Any]]]:
    # Only what the person did, or what was done for them: when, what, and which record.
    # Labels and before/after values are left out: they may be about other people.
    from localsocial.core.models import AuditEvent

    fields = ("created_at", "action", "target_type", "target_id")

    def rows(qs: Any) -> list[dict[str, Any]]:
        return [
            {"when": _iso(row["created_at"]), "action": row["action"],
             "target_type": row["target_type"], "target_id": row["target_id"]}
            for row in qs.order_by("created_at", "id").values(*fields).iterator()
        ]

    return {
        "actions_you_took": rows(AuditEvent.objects.filter(actor=user)),
        "actions_taken_for_you": rows(AuditEvent.objects.filter(on_behalf_of=user)),
    }


def _erase_memberships(user: User) -> None:
    from localsocial.directory.models import OrganisationMembership

    OrganisationMembership.objects.filter(user=user).delete()


def register_personal_data() -> None:
    """Called from ``AccountsConfig.ready()``."""
    personal_data.export_section_register("account", _export_account)
    personal_data.export_section_register("site_roles", _export_site_roles)
    personal_data.export_section_register("organisation_memberships", _export_memberships)
    personal_data.export_section_register("audit_events", _export_audit_events)
    personal_data.eraser_register("organisation_memberships", _erase_memberships)
