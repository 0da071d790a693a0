"""The directory: organisations in a tree, the services they run, the areas they serve, and
the staff who work for them."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# ONS GSS codes: a letter and two digits for the entity type, six digits for the instance,
# e.g. E09000028 (Southwark), W06000015 (Cardiff), S12000036, N09000003.
GSS_RE = r"^[EWSNKLM]\d{8}$"
# NHS ODS codes: 3 to 6 upper-case letters and digits, e.g. RJ1, RJ122, A81001, 8KL99.
ODS_RE = r"^[A-Z0-9]{3,6}$"
CHARITY_RE = r"^(\d{6,8}(-\d{1,2})?|SC\d{6})$"
# A full UK postcode in its canonical form: upper case, one space before the inward code.
POSTCODE_RE = r"^([A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA)$"
# Stable ids (slugs) of organisations and services.
SLUG_RE = r"^[a-z0-9]+(-[a-z0-9]+)*$"

gss_validator = RegexValidator(GSS_RE, _("Enter an ONS GSS code like E09000028."))
ods_validator = RegexValidator(ODS_RE, _("Enter an NHS ODS code: 3 to 6 capital letters and numbers."))
charity_validator = RegexValidator(
    CHARITY_RE, _("Enter a charity number like 1089464 or SC012345.")
)
postcode_validator = RegexValidator(POSTCODE_RE, _("Enter a full UK postcode, like SE1 7EH."))

LATITUDE = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE = [MinValueValidator(-180), MaxValueValidator(180)]

# Organisation paths: one fixed-width segment per level ("0000000042."), so that a subtree
# is one prefix match and the ancestors of an organisation can be read from its own row.
PATH_SEGMENT = 10
PATH_STEP = PATH_SEGMENT + 1
PATH_MAX_LENGTH = 255
# The deepest level an organisation may sit at (0 is the top): the path must fit its column.
MAX_DEPTH = PATH_MAX_LENGTH // PATH_STEP - 1

_POSTCODE_FULL = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def normalise_postcode(value: str) -> str:
    """A postcode in canonical form ("se17eh" → "SE1 7EH"); anything else upper-cased and
    trimmed, so that the validator can say what is wrong with it."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = _POSTCODE_FULL.match(compact)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    if compact == "GIR0AA":
        return "GIR 0AA"
    return " ".join((value or "").upper().split())


def path_ids(path: str) -> list[int]:
    """The ids of the organisations on a materialised path, from the top down."""
    return [int(part) for part in path.split(".") if part]


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT}d}."


class Area(models.Model):
    """A place with an ONS GSS code: a local authority district, county, ward or region."""

    gss_code = models.CharField(_("ONS GSS code"), max_length=9, unique=True, validators=[gss_validator])
    name = models.CharField(_("name"), max_length=200)
    area_type = models.CharField(_("area type"), max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gss_code__regex=GSS_RE), name="directory_area_gss_valid"
            ),
            models.CheckConstraint(condition=~models.Q(name=""), name="directory_area_name_present"),
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


def _coordinates_valid() -> models.Q:
    return (
        models.Q(latitude__isnull=True, longitude__isnull=True)
        # Spelled out with IS NOT NULL: a CHECK whose condition is NULL passes.
        | models.Q(
            latitude__isnull=False, longitude__isnull=False,
            latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180,
        )
    )


class Organisation(models.Model):
    """A council, NHS body, charity or provider, or a part of one (a directorate, a hospital,
    a ward).  ``path`` is the materialised path of ids from the root, so that a whole subtree
    is one indexed prefix match.  Write through ``directory.services``: they keep ``path``
    and ``depth`` right."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("id"), max_length=220, unique=True)
    org_type = models.CharField(_("type"), max_length=30, choices=OrganisationType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("part of"),
    )
    path = models.CharField(max_length=PATH_MAX_LENGTH, db_index=True, editable=False, default="")
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
    postcode = models.CharField(_("postcode"), max_length=10, blank=True, validators=[postcode_validator])
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=LATITUDE
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=LONGITUDE
    )
    areas_served = models.ManyToManyField(
        Area, blank=True, related_name="organisations", verbose_name=_("areas served")
    )
    is_private_provider = models.BooleanField(
        _("private provider"), default=False,
        help_text=_("Private providers get advance notice of critical stories."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            # Keyset pagination: (name, id) overall, within a type, at the top level and
            # under one parent.
            models.Index(fields=["name", "id"], name="directory_org_name_id"),
            models.Index(fields=["org_type", "name", "id"], name="directory_org_type_name_id"),
            models.Index(fields=["depth", "name", "id"], name="directory_org_depth_name_id"),
            models.Index(fields=["parent", "name", "id"], name="directory_org_parent_name_id"),
            # Postcode prefix search (LIKE 'SE1 %'): pattern ops let PostgreSQL use the index
            # whatever the database's collation; other databases ignore opclasses.
            models.Index(fields=["postcode"], name="directory_org_postcode", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="directory_org_name_present"),
            models.CheckConstraint(condition=models.Q(slug__regex=SLUG_RE), name="directory_org_slug_valid"),
            models.CheckConstraint(
                condition=models.Q(org_type__in=[c.value for c in OrganisationType]),
                name="directory_org_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(ods_code__isnull=True) | models.Q(ods_code__regex=ODS_RE),
                name="directory_org_ods_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(gss_code__isnull=True) | models.Q(gss_code__regex=GSS_RE),
                name="directory_org_gss_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(charity_number="") | models.Q(charity_number__regex=CHARITY_RE),
                name="directory_org_charity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(postcode="") | models.Q(postcode__regex=POSTCODE_RE),
                name="directory_org_postcode_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="directory_org_not_own_parent"
            ),
            models.CheckConstraint(condition=models.Q(depth__lte=MAX_DEPTH), name="directory_org_depth_max"),
            # The path is written just after the row is inserted (it needs the new id); once
            # written, it holds one segment per level.
            models.CheckConstraint(
                condition=models.Q(path="")
                | models.Q(Exact(Length("path"), (models.F("depth") + 1) * PATH_STEP)),
                name="directory_org_path_matches_depth",
            ),
            models.CheckConstraint(condition=_coordinates_valid(), name="directory_org_coordinates_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:organisation", kwargs={"slug": self.slug})

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids of the organisations above this one, from the top down (read from ``path``)."""
        return path_ids(self.path)[:-1]

    @property
    def lineage_ids(self) -> list[int]:
        """This organisation's id and those of every organisation above it."""
        return path_ids(self.path) or ([self.pk] if self.pk else [])

    def clean(self) -> None:
        super().clean()
        if self.parent_id is not None and self.pk is not None:
            parent = self.parent
            if parent is not None and (parent.pk == self.pk or (self.path and parent.path.startswith(self.path))):
                raise ValidationError(
                    {"parent": _("An organisation cannot be part of itself or of one of its own parts.")}
                )


class Service(models.Model):
    """Something an organisation does for people: a ward, a bin collection, a GP surgery.

    ``lgsl_id`` is the Local Government Service List id where one applies (e.g. 524 for
    household waste collection)."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="services", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("id"), max_length=220, unique=True)
    description = models.TextField(_("description"), blank=True)
    lgsl_id = models.PositiveIntegerField(
        _("LGSL id"), null=True, blank=True, db_index=True, validators=[MinValueValidator(1)]
    )
    ods_code = models.CharField(
        _("NHS ODS code"), max_length=6, null=True, blank=True, unique=True, validators=[ods_validator]
    )
    address = models.TextField(_("address"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True, validators=[postcode_validator])
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=LATITUDE
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=LONGITUDE
    )
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("still provided"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organisation", "name", "id"], name="directory_svc_org_name_id"),
            models.Index(fields=["name", "id"], name="directory_svc_name_id"),
            models.Index(fields=["postcode"], name="directory_svc_postcode", opclasses=["varchar_pattern_ops"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="directory_service_name_present"),
            models.CheckConstraint(
                condition=models.Q(slug__regex=SLUG_RE), name="directory_service_slug_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(ods_code__isnull=True) | models.Q(ods_code__regex=ODS_RE),
                name="directory_service_ods_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(lgsl_id__isnull=True) | models.Q(lgsl_id__gte=1),
                name="directory_service_lgsl_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(postcode="") | models.Q(postcode__regex=POSTCODE_RE),
                name="directory_service_postcode_valid",
            ),
            models.CheckConstraint(condition=_coordinates_valid(), name="directory_service_coordinates_valid"),
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
    role = models.CharField(_("role"), max_length=20, choices=StaffRole.choices, default=StaffRole.MEMBER)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organisation", "role"], name="directory_membership_org_role")]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="directory_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=[c.value for c in StaffRole]),
                name="directory_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.organisation_id}: {self.role}"


class Postcode(models.Model):
    """Where a UK postcode is: its centre, from the ONS Postcode Directory (ONSPD), loaded with
    ``localsocial postcodes_load``.  Used to place help requests and helpers on the map for
    matching; nothing else depends on it, so an empty table only means "distance unknown"."""

    postcode = models.CharField(_("postcode"), max_length=8, unique=True, validators=[postcode_validator])
    latitude = models.FloatField(_("latitude"), validators=LATITUDE)
    longitude = models.FloatField(_("longitude"), validators=LONGITUDE)
    local_authority_gss = models.CharField(
        _("local authority GSS code"), max_length=9, blank=True, default="", validators=[gss_validator]
    )
    # ONSPD's "doterm": the month the Royal Mail stopped using it.  Old addresses still carry
    # such postcodes and their place has not moved, so they are still located.
    terminated_on = models.DateField(_("terminated on"), null=True, blank=True)

    class Meta:
        verbose_name = _("postcode")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(postcode__regex=POSTCODE_RE), name="directory_postcode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="directory_postcode_on_earth",
            ),
            models.CheckConstraint(
                condition=models.Q(local_authority_gss="") | models.Q(local_authority_gss__regex=GSS_RE),
                name="directory_postcode_gss_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.postcode
