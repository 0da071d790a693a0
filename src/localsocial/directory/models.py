"""The directory: organisations in a tree, the services they run, the areas they serve, and
the staff who work for them."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# ONS GSS codes: a letter and two digits for the entity type, six digits for the instance,
# e.g. E09000028 (Southwark), W06000015 (Cardiff), S12000036, N09000003.
GSS_RE = r"^[EWSNKLM]\d{8}$"
# NHS ODS codes: 3 to 6 upper-case letters and digits, e.g. RJ1, RJ122, A81001, 8KL99.
ODS_RE = r"^[A-Z0-9]{3,6}$"
gss_validator = RegexValidator(GSS_RE, _("Enter an ONS GSS code like E09000028."))
ods_validator = RegexValidator(ODS_RE, _("Enter an NHS ODS code: 3 to 6 capital letters and numbers."))
charity_validator = RegexValidator(
    r"^(\d{6,8}(-\d{1,2})?|SC\d{6})$", _("Enter a charity number like 1089464 or SC012345.")
)

# Organisation paths: one fixed-width segment per level, so a subtree is a prefix match.
PATH_SEGMENT = 10


class Area(models.Model):
    """A place with an ONS GSS code: a local authority district, county, ward or region."""

    gss_code = models.CharField(max_length=9, unique=True, validators=[gss_validator])
    name = models.CharField(max_length=200)
    area_type = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gss_code__regex=GSS_RE), name="directory_area_gss_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.gss_code})"


class OrganisationType(models.TextChoices):
    COUNCIL = "council", _("Council")
    DIRECTORATE = "directorate", _("Directorate")
    SERVICE_TEAM = "service_team", _("Service team")
    NHS_TRUST = "nhs_trust", _("NHS trust")
    HOSPITAL = "hospital", _("Hospital")
    DEPARTMENT = "department", _("Department")
    GP_PRACTICE = "gp_practice", _("GP practice")
    CARE_PROVIDER = "care_provider", _("Care provider")
    CHARITY = "charity", _("Charity")
    HOUSING = "housing", _("Housing association")
    OTHER = "other", _("Other")


class Organisation(models.Model):
    """A council, NHS body, charity or provider, or a part of one (a directorate, a hospital,
    a ward).  ``path`` is the materialised path of ids from the root, so that a whole subtree
    is one indexed prefix match."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    org_type = models.CharField(_("type"), max_length=30, choices=OrganisationType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    ods_code = models.CharField(
        _("NHS ODS code"), max_length=6, null=True, blank=True, unique=True, validators=[ods_validator]
    )
    gss_code = models.CharField(
        _("ONS GSS code"), max_length=9, null=True, blank=True, unique=True, validators=[gss_validator]
    )
    charity_number = models.CharField(
        _("charity number"), max_length=12, blank=True, validators=[charity_validator]
    )
    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    address = models.TextField(_("address"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    areas_served = models.ManyToManyField(Area, blank=True, related_name="organisations")
    is_private_provider = models.BooleanField(
        _("private provider"), default=False,
        help_text=_("Private providers get advance notice of critical stories."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["org_type", "name"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ods_code__isnull=True) | models.Q(ods_code__regex=ODS_RE),
                name="directory_org_ods_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(gss_code__isnull=True) | models.Q(gss_code__regex=GSS_RE),
                name="directory_org_gss_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="directory_org_not_own_parent"
            ),
            models.CheckConstraint(
                condition=(models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90))
                & (models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180)),
                name="directory_org_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:organisation", kwargs={"slug": self.slug})


class Service(models.Model):
    """Something an organisation does for people: a ward, a bin collection, a GP surgery.

    ``lgsl_id`` is the Local Government Service List id where one applies (e.g. 524 for
    household waste collection)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True)
    lgsl_id = models.PositiveIntegerField(_("LGSL id"), null=True, blank=True, db_index=True)
    ods_code = models.CharField(
        _("NHS ODS code"), max_length=6, null=True, blank=True, unique=True, validators=[ods_validator]
    )
    address = models.TextField(_("address"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["organisation", "name"]), models.Index(fields=["name"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ods_code__isnull=True) | models.Q(ods_code__regex=ODS_RE),
                name="directory_service_ods_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(lgsl_id__isnull=True) | models.Q(lgsl_id__gte=1),
                name="directory_service_lgsl_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:service", kwargs={"slug": self.slug})


class StaffRole(models.TextChoices):
    MEMBER = "member", _("Member")
    RESPONDER = "responder", _("Responder")
    ADMINISTRATOR = "administrator", _("Administrator")


class OrganisationMembership(models.Model):
    """A person working for an organisation, with their role there.

    A role in an organisation applies to its whole subtree: an administrator of a trust
    administers its hospitals too."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_memberships"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=StaffRole.choices, default=StaffRole.MEMBER)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="directory_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[c.value for c in StaffRole]),
                name="directory_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.organisation_id}: {self.role}"
