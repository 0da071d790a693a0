"""People and their site-wide roles.

Organisation staff roles live in the directory (``directory.OrganisationMembership``) because
they belong to one organisation; the roles here apply to the whole site.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def email_normalise(email: str) -> str:
    """The one spelling of an email address that we store and look up: no spaces around it,
    all lower case.  (Mailboxes are case-insensitive in practice; treating them so stops one
    person from ending up with two accounts.)"""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email_normalise(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # Sign-in finds the account whatever the case of the address typed.
        return self.get(email=email_normalise(username or ""))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified_at", timezone.now())
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who can sign in.  Signs in with an email address; shows a display name."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"), max_length=80, blank=True,
        help_text=_("Shown beside what you write. A pseudonym is fine."),
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Django's "staff" flag only opens the admin site's login form; who may use the admin is
    # decided by ``is_site_admin``.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    erased_at = models.DateTimeField(null=True, blank=True)
    preferred_language = models.CharField(max_length=10, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        if self.erased_at is not None:
            return str(_("Former member"))
        return self.display_name or str(_("Member %(id)s") % {"id": self.pk})

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    def site_roles(self) -> set[str]:
        cached = getattr(self, "_site_roles_cache", None)
        if cached is None:
            cached = set(self.role_grants.values_list("role", flat=True)) if self.pk else set()
            self._site_roles_cache = cached
        return cached

    def has_site_role(self, role: str) -> bool:
        return role in self.site_roles()

    @property
    def is_site_admin(self) -> bool:
        return self.is_superuser or self.has_site_role(SiteRole.SITE_ADMIN)

    @property
    def is_moderator(self) -> bool:
        return self.has_site_role(SiteRole.MODERATOR) or self.is_site_admin


class SiteRole(models.TextChoices):
    MODERATOR = "moderator", _("Moderator")
    CIRCLE_COORDINATOR = "circle_coordinator", _("Circle coordinator")
    COMMUNITY_FACILITATOR = "community_facilitator", _("Community facilitator")
    SITE_ADMIN = "site_admin", _("Site administrator")


class RoleGrant(models.Model):
    """A site-wide role held by a person, with who granted it and when."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=40, choices=SiteRole.choices)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="accounts_rolegrant_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[c.value for c in SiteRole]),
                name="accounts_rolegrant_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"
