"""Reads for the directory's pages and API.  Each returns everything its page needs, in a
fixed number of queries whatever the length of the lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _

from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.directory.models import (
    GSS_RE,
    ODS_RE,
    POSTCODE_RE,
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Postcode,
    Service,
    normalise_postcode,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

ORDERING = ("name", "id")
SEARCH_ORDERING = ("name", "kind", "id")
MAX_SEARCH_TERMS = 8

_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_PARTIAL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]?$")
_FULL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")


# --- Search conditions ------------------------------------------------------------------------

def postcode_prefix(query: str) -> str | None:
    """The postcode prefix a search means, or None if it does not look like one.

    "se1 7eh" and "SE17EH" mean that postcode; "SE1" means the district (SE1 …, not SE10 …);
    "SE1 7" means the start of the sector."""
    canonical = normalise_postcode(query)
    if _FULL.match(canonical):
        return canonical
    if _OUTWARD.match(canonical):
        return canonical + " "
    if _PARTIAL.match(canonical):
        return canonical
    return None


def _search_condition(query: str, *, with_gss: bool) -> Q:
    """Every word in the name (any case), or the ODS/GSS code exactly, or a postcode prefix."""
    terms = query.split()[:MAX_SEARCH_TERMS]
    condition = Q()
    for term in terms:
        condition &= Q(name__icontains=term)
    compact = "".join(query.split()).upper()
    if re.match(ODS_RE, compact):
        condition |= Q(ods_code=compact)
    if with_gss and re.match(GSS_RE, compact):
        condition |= Q(gss_code=compact)
    prefix = postcode_prefix(query)
    if prefix:
        condition |= Q(postcode__startswith=prefix)
    return condition


def organisation_queryset_search(queryset: QuerySet[Organisation], query: str) -> QuerySet[Organisation]:
    return queryset.filter(_search_condition(query, with_gss=True)) if query.strip() else queryset


def service_queryset_search(queryset: QuerySet[Service], query: str) -> QuerySet[Service]:
    return queryset.filter(_search_condition(query, with_gss=False)) if query.strip() else queryset


# --- Directory home ---------------------------------------------------------------------------

def organisation_list_for_browse(
    *, org_type: str | None, cursor: str | None, page_size: int
) -> KeysetPage[Organisation]:
    """Organisations of one type, or (with no type) the top-level organisations, by name.
    One query.  Raises InvalidCursorError for a cursor not made here."""
    queryset = Organisation.objects.only("id", "name", "slug", "org_type", "postcode")
    queryset = queryset.filter(org_type=org_type) if org_type else queryset.filter(depth=0)
    return keyset_paginate(queryset, ordering=ORDERING, cursor=cursor, page_size=page_size)


# --- Search -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    kind: str  # "organisation" or "service"
    name: str
    slug: str
    url: str
    context: str


def _type_label(value: str) -> str:
    try:
        return str(OrganisationType(value).label)
    except ValueError:
        return value


def directory_search(
    *, query: str, kind: str, cursor: str | None, page_size: int
) -> KeysetPage[SearchResult]:
    """Organisations and services matching ``query`` (see ``_search_condition``), by name.

    ``kind`` is "all", "organisations" or "services".  Both kinds come from one UNION query,
    paginated by (name, kind, id), so the page is one query however many match."""
    text_field = CharField()
    organisations = (
        Organisation.objects.filter(_search_condition(query, with_gss=True))
        .order_by()
        .annotate(kind=Value("organisation", output_field=text_field), context=F("org_type"))
        .values("id", "name", "slug", "kind", "context")
    )
    services = (
        Service.objects.filter(_search_condition(query, with_gss=False), is_active=True)
        .order_by()
        .annotate(kind=Value("service", output_field=text_field), context=F("organisation__name"))
        .values("id", "name", "slug", "kind", "context")
    )
    branches: list[QuerySet[Any]]
    if kind == "organisations":
        branches = [organisations]
    elif kind == "services":
        branches = [services]
    else:
        branches = [organisations, services]

    def fetch(condition: Q | None, order_by: list[str], limit: int) -> list[dict[str, Any]]:
        parts = [branch.filter(condition) if condition is not None else branch for branch in branches]
        combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        return list(combined.order_by(*order_by)[:limit])

    page = keyset_paginate(fetch, ordering=SEARCH_ORDERING, cursor=cursor, page_size=page_size)
    results = []
    from django.urls import reverse

    for row in page.items:
        if row["kind"] == "organisation":
            url = reverse("directory:organisation", kwargs={"slug": row["slug"]})
            context = _type_label(row["context"])
        else:
            url = reverse("directory:service", kwargs={"slug": row["slug"]})
            context = _("Service from %(organisation)s") % {"organisation": row["context"]}
        results.append(SearchResult(kind=row["kind"], name=row["name"], slug=row["slug"], url=url, context=context))
    page.items = results  # type: ignore[assignment]
    return page  # type: ignore[return-value]


# --- Organisation and service pages -----------------------------------------------------------

def organisation_ancestors(*, organisation: Organisation) -> list[Organisation]:
    """The organisations above this one, from the top down: one query (none at the top)."""
    ids = organisation.ancestor_ids
    if not ids:
        return []
    return list(Organisation.objects.filter(pk__in=ids).only("id", "name", "slug", "depth").order_by("depth"))


@dataclass
class OrganisationPage:
    organisation: Organisation
    ancestors: list[Organisation]
    areas: list[Area]
    children: KeysetPage[Organisation]
    services: KeysetPage[Service]
    can_manage_staff: bool


def organisation_get_for_page(
    *,
    slug: str,
    user: User | AnonymousUser,
    children_cursor: str | None,
    services_cursor: str | None,
    page_size: int,
) -> OrganisationPage:
    """An organisation with its ancestors, areas, one page of its child organisations and
    one of its services (still provided), and whether ``user`` may manage its staff.
    Raises Http404.  At most six queries, three more for a signed-in user."""
    organisation = (
        Organisation.objects.select_related("parent").prefetch_related("areas_served").filter(slug=slug).first()
    )
    if organisation is None:
        raise Http404(_("There is no organisation at this address."))
    children = keyset_paginate(
        Organisation.objects.filter(parent=organisation).only("id", "name", "slug", "org_type"),
        ordering=ORDERING, cursor=children_cursor, page_size=page_size, cursor_param="children",
    )
    services = keyset_paginate(
        Service.objects.filter(organisation=organisation, is_active=True).only(
            "id", "name", "slug", "lgsl_id", "postcode"
        ),
        ordering=ORDERING, cursor=services_cursor, page_size=page_size, cursor_param="services",
    )
    return OrganisationPage(
        organisation=organisation,
        ancestors=organisation_ancestors(organisation=organisation),
        areas=list(organisation.areas_served.all()),
        children=children,
        services=services,
        can_manage_staff=bool(user.is_authenticated and user.has_perm("directory.manage_staff", organisation)),
    )


@dataclass
class ServicePage:
    service: Service
    ancestors: list[Organisation]  # the service's organisation and those above it


def service_get_for_page(*, slug: str) -> ServicePage:
    """A service with its organisation and the organisations above that: two queries.
    Raises Http404."""
    service = Service.objects.select_related("organisation").filter(slug=slug).first()
    if service is None:
        raise Http404(_("There is no service at this address."))
    organisation = service.organisation
    return ServicePage(service=service, ancestors=[*organisation_ancestors(organisation=organisation), organisation])


# --- Staff management -------------------------------------------------------------------------

def organisation_get_for_staff_management(*, user: User, slug: str) -> Organisation:
    """The organisation with this slug, if ``user`` may manage its staff.

    Raises Http404 if there is none and PermissionDenied if the user may not."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404(_("There is no organisation at this address."))
    if not user.has_perm("directory.manage_staff", organisation):
        raise PermissionDenied(_("You cannot manage the staff of this organisation."))
    return organisation


def membership_list_for_organisation(
    *, organisation: Organisation, cursor: str | None, page_size: int
) -> KeysetPage[OrganisationMembership]:
    """One page of the organisation's own staff with their accounts, by email: one query."""
    queryset = OrganisationMembership.objects.filter(organisation=organisation).select_related("user")
    return keyset_paginate(queryset, ordering=("user__email", "id"), cursor=cursor, page_size=page_size)


def membership_get_for_management(*, organisation: Organisation, membership_id: int) -> OrganisationMembership:
    """A member of this organisation's staff (fetch the organisation with
    ``organisation_get_for_staff_management`` first).  Raises Http404."""
    membership = (
        OrganisationMembership.objects.select_related("user")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if membership is None:
        raise Http404(_("This person is not on the staff of this organisation."))
    return membership


def organisation_administrators_above(*, organisation: Organisation) -> list[Organisation]:
    """The organisations above this one (whose administrators also manage its staff)."""
    return organisation_ancestors(organisation=organisation)


# --- Postcodes ---------------------------------------------------------------------------------

def postcode_locate(postcode: str) -> tuple[float, float] | None:
    """The (latitude, longitude) of a full UK postcode, written in any case and spacing, or
    None when it is not a full postcode or is not in the loaded postcode data.  One query at
    most; terminated postcodes are still located (their place has not moved)."""
    normalised = normalise_postcode(postcode or "")
    if not re.match(POSTCODE_RE, normalised):
        return None
    found = Postcode.objects.filter(postcode=normalised).values_list("latitude", "longitude").first()
    return (found[0], found[1]) if found else None
