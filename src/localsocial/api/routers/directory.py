"""/api/directory/: read the directory of organisations and services.

Lists are paginated with an opaque ``cursor``: pass back ``next_cursor`` (or
``previous_cursor``) to get the next (or previous) page.  Each request is a fixed number of
queries whatever the size of the directory.  Errors are JSON: 404 ``{"detail": "…"}`` for an
unknown id, 422 for a filter that cannot be used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from localsocial.core.pagination import InvalidCursorError, keyset_paginate
from localsocial.directory.models import GSS_RE, ODS_RE, Organisation, OrganisationType, Service
from localsocial.directory.selectors import (
    SEARCH_QUERYSET_ORDERING,
    organisation_ancestors,
    organisation_queryset_search,
    service_queryset_search,
)

router = Router()

ORDERING = ("name", "id")
CHILDREN_SHOWN = 100


# --- Schemas ----------------------------------------------------------------------------------

class OrganisationRef(Schema):
    slug: str
    name: str


class AreaOut(Schema):
    gss_code: str
    name: str
    area_type: str


class OrganisationSummary(Schema):
    slug: str = Field(description="The organisation's lasting id (as in the CSV format).")
    name: str
    type: str = Field(description="One of the organisation types, e.g. council, nhs_trust.")
    type_label: str
    parent: str | None = Field(description="The slug of the organisation above, if any.")
    depth: int = Field(description="0 for a top-level organisation.")
    ods_code: str | None
    gss_code: str | None
    postcode: str
    url: str = Field(description="Its page on this site.")


class OrganisationDetail(OrganisationSummary):
    charity_number: str
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    website: str
    email: str
    phone: str
    is_private_provider: bool
    ancestors: list[OrganisationRef] = Field(description="From the top down.")
    areas_served: list[AreaOut]
    children: list[OrganisationSummary] = Field(
        description=f"The first {CHILDREN_SHOWN} organisations directly below, by name."
    )
    more_children: bool = Field(
        description="True if there are more: list them with /organisations?parent=<slug>."
    )


class ServiceSummary(Schema):
    slug: str
    name: str
    organisation: OrganisationRef
    lgsl_id: int | None = Field(description="Local Government Service List id.")
    ods_code: str | None
    postcode: str
    active: bool
    url: str


class ServiceDetail(ServiceSummary):
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    website: str
    email: str
    phone: str


class OrganisationPage(Schema):
    items: list[OrganisationSummary]
    next_cursor: str | None
    previous_cursor: str | None


class ServicePage(Schema):
    items: list[ServiceSummary]
    next_cursor: str | None
    previous_cursor: str | None


class ErrorOut(Schema):
    detail: Any


class OrganisationFilters(Schema):
    type: OrganisationType | None = Field(None, description="Only organisations of this type.")
    parent: str | None = Field(None, description="Only organisations directly below this one (slug).")
    ods_code: str | None = Field(None, description="The organisation with this NHS ODS code.")
    gss_code: str | None = Field(None, description="The organisation with this ONS GSS code.")
    q: str | None = Field(None, max_length=200, description="Words in the name, a code or the start of a postcode.")
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


class ServiceFilters(Schema):
    organisation: str | None = Field(None, description="Only services of this organisation (slug).")
    include_subtree: bool = Field(True, description="With organisation: also every organisation below it.")
    lgsl_id: int | None = Field(None, ge=1, description="Only services with this LGSL id.")
    q: str | None = Field(None, max_length=200, description="Words in the name, an ODS code or the start of a postcode.")
    include_inactive: bool = Field(False, description="Also services no longer provided.")
    cursor: str | None = None
    limit: int = Field(20, ge=1, le=100)


# --- Conversions ------------------------------------------------------------------------------

def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _organisation_summary(org: Organisation) -> dict[str, Any]:
    return {
        "slug": org.slug,
        "name": org.name,
        "type": org.org_type,
        "type_label": str(org.get_org_type_display()),  # type: ignore[attr-defined]
        "parent": org.parent.slug if org.parent_id and org.parent else None,
        "depth": org.depth,
        "ods_code": org.ods_code,
        "gss_code": org.gss_code,
        "postcode": org.postcode,
        "url": reverse("directory:organisation", kwargs={"slug": org.slug}),
    }


def _service_summary(service: Service) -> dict[str, Any]:
    return {
        "slug": service.slug,
        "name": service.name,
        "organisation": {"slug": service.organisation.slug, "name": service.organisation.name},
        "lgsl_id": service.lgsl_id,
        "ods_code": service.ods_code,
        "postcode": service.postcode,
        "active": service.is_active,
        "url": reverse("directory:service", kwargs={"slug": service.slug}),
    }


def _page(
    queryset: QuerySet[Any], cursor: str | None, limit: int, summary: Callable[[Any], dict[str, Any]],
    *, ranked: bool = False,
) -> dict[str, Any]:
    """One page of a list response: the items as ``summary`` gives them, and both cursors.
    ``ranked``: the queryset is a search's, best first (``SEARCH_QUERYSET_ORDERING``)."""
    ordering = SEARCH_QUERYSET_ORDERING if ranked else ORDERING
    try:
        page = keyset_paginate(queryset, ordering=ordering, cursor=cursor, page_size=limit)
    except InvalidCursorError as exc:
        raise HttpError(422, "cursor is not valid: use next_cursor or previous_cursor from a response.") from exc
    return {
        "items": [summary(row) for row in page.items],
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
    }


def _check_code(value: str | None, pattern: str, name: str, example: str) -> str | None:
    # An empty value (a form left blank, "?ods_code=") means "no filter", not a bad code.
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if not re.match(pattern, code):
        raise HttpError(422, f"{name} is not valid: expected something like {example}.")
    return code


def _organisation_or_422(slug: str, name: str) -> Organisation:
    org = Organisation.objects.filter(slug=slug).only("id", "path").first()
    if org is None:
        raise HttpError(422, f"{name}: there is no organisation with the slug '{slug}'.")
    return org


# --- Endpoints --------------------------------------------------------------------------------

@router.get(
    "/organisations",
    response={200: OrganisationPage, 422: ErrorOut},
    summary="List organisations",
)
def organisation_list(request: HttpRequest, filters: Query[OrganisationFilters]) -> dict[str, Any]:
    """Organisations by name, filtered; with ``q``, the best matches of the directory search
    first (the best 500 of the directory, narrowed by the other filters).  Two queries at most."""
    queryset = Organisation.objects.select_related("parent")
    if filters.type:
        queryset = queryset.filter(org_type=filters.type)
    if filters.parent:
        queryset = queryset.filter(parent=_organisation_or_422(filters.parent, "parent"))
    ods = _check_code(filters.ods_code, ODS_RE, "ods_code", "RJ1")
    if ods:
        queryset = queryset.filter(ods_code=ods)
    gss = _check_code(filters.gss_code, GSS_RE, "gss_code", "E09000028")
    if gss:
        queryset = queryset.filter(gss_code=gss)
    ranked = bool(filters.q and filters.q.strip())
    if ranked:
        queryset = organisation_queryset_search(queryset, filters.q or "")
    return _page(queryset, filters.cursor, filters.limit, _organisation_summary, ranked=ranked)


@router.get(
    "/organisations/{slug}",
    response={200: OrganisationDetail, 404: ErrorOut},
    summary="One organisation, with its children",
)
def organisation_detail(request: HttpRequest, slug: str) -> dict[str, Any]:
    """An organisation with its ancestors, areas served and first children: four queries."""
    org = (
        Organisation.objects.select_related("parent")
        .prefetch_related("areas_served")
        .filter(slug=slug)
        .first()
    )
    if org is None:
        raise HttpError(404, f"There is no organisation with the slug '{slug}'.")
    children = list(
        Organisation.objects.filter(parent=org).select_related("parent").order_by(*ORDERING)[: CHILDREN_SHOWN + 1]
    )
    return {
        **_organisation_summary(org),
        "charity_number": org.charity_number,
        "description": org.description,
        "address": org.address,
        "latitude": _float(org.latitude),
        "longitude": _float(org.longitude),
        "website": org.website,
        "email": org.email,
        "phone": org.phone,
        "is_private_provider": org.is_private_provider,
        "ancestors": [{"slug": a.slug, "name": a.name} for a in organisation_ancestors(organisation=org)],
        "areas_served": [
            {"gss_code": a.gss_code, "name": a.name, "area_type": a.area_type} for a in org.areas_served.all()
        ],
        "children": [_organisation_summary(child) for child in children[:CHILDREN_SHOWN]],
        "more_children": len(children) > CHILDREN_SHOWN,
    }


@router.get(
    "/services",
    response={200: ServicePage, 422: ErrorOut},
    summary="List services",
)
def service_list(request: HttpRequest, filters: Query[ServiceFilters]) -> dict[str, Any]:
    """Services by name, filtered; two queries at most.  With ``organisation``, the
    services of that organisation and (unless include_subtree=false) every one below it.  With
    ``q``, the best matches of the directory search first (the best 500 services still
    provided, narrowed by the other filters)."""
    queryset = Service.objects.select_related("organisation")
    if not filters.include_inactive:
        queryset = queryset.filter(is_active=True)
    if filters.organisation:
        org = _organisation_or_422(filters.organisation, "organisation")
        if filters.include_subtree:
            queryset = queryset.filter(organisation__path__startswith=org.path)
        else:
            queryset = queryset.filter(organisation=org)
    if filters.lgsl_id is not None:
        queryset = queryset.filter(lgsl_id=filters.lgsl_id)
    ranked = bool(filters.q and filters.q.strip())
    if ranked:
        queryset = service_queryset_search(queryset, filters.q or "")
    return _page(queryset, filters.cursor, filters.limit, _service_summary, ranked=ranked)


@router.get(
    "/services/{slug}",
    response={200: ServiceDetail, 404: ErrorOut},
    summary="One service",
)
def service_detail(request: HttpRequest, slug: str) -> dict[str, Any]:
    """A service with its organisation: one query."""
    service = Service.objects.select_related("organisation").filter(slug=slug).first()
    if service is None:
        raise HttpError(404, f"There is no service with the slug '{slug}'.")
    return {
        **_service_summary(service),
        "description": service.description,
        "address": service.address,
        "latitude": _float(service.latitude),
        "longitude": _float(service.longitude),
        "website": service.website,
        "email": service.email,
        "phone": service.phone,
    }
