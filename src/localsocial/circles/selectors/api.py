"""Reads for the circles API (``circles.api``): the public circles, a member's own requests
and account, and records found by id within one circle.  Each a fixed number of queries."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from localsocial.circles.models import (
    Account,
    Circle,
    HelpRequest,
    Member,
    Payment,
    TokenBundle,
    Transfer,
    Visit,
)
from localsocial.core.pagination import KeysetPage, keyset_paginate

CIRCLE_ORDERING = ("name", "id")
HELP_REQUEST_ORDERING = ("-starts_at", "-id")


def _circles_with_bundles() -> QuerySet[Circle]:
    return Circle.objects.select_related("area", "organisation").prefetch_related(
        Prefetch("bundles", queryset=TokenBundle.objects.filter(is_active=True).order_by("quarters", "id"),
                 to_attr="bundles_on_sale")
    )


def circle_page_for_api(*, cursor: str | None, page_size: int) -> KeysetPage[Circle]:
    """Circles open to new members, by name, with their area, organisation and bundles on
    sale (``bundles_on_sale``).  Two queries."""
    return keyset_paginate(
        _circles_with_bundles().filter(is_active=True), ordering=CIRCLE_ORDERING, cursor=cursor, page_size=page_size
    )


def circle_get_for_api(*, slug: str) -> Circle:
    """Any circle by its slug (as its public page), with its bundles on sale; Http404 if
    there is none.  Two queries."""
    circle = _circles_with_bundles().filter(slug=slug).first()
    if circle is None:
        raise Http404("There is no circle with this slug.")
    return circle


def help_request_page_for_member(*, member: Member, cursor: str | None, page_size: int) -> KeysetPage[HelpRequest]:
    """The member's own requests, latest first, each with its visit and helper.  One query."""
    return keyset_paginate(
        HelpRequest.objects.filter(member=member).select_related("visit__helper"),
        ordering=HELP_REQUEST_ORDERING, cursor=cursor, page_size=page_size,
    )


def help_request_get_of_member(*, member: Member, request_id: int) -> HelpRequest:
    """One of ``member``'s own requests (in their circle), with its visit and helper;
    Http404 for any other.  One query."""
    help_request = HelpRequest.objects.filter(pk=request_id, member=member).select_related("visit__helper").first()
    if help_request is None:
        raise Http404
    return help_request


def help_request_get_with_visit(*, request_id: int) -> HelpRequest | None:
    """A request by id with its visit and helper, or None: what an API request made, found
    again for a retry with the same Idempotency-Key.  One query."""
    return HelpRequest.objects.select_related("visit__helper").filter(pk=request_id).first()


def member_account_for_api(*, member: Member) -> Account | None:
    """The member's token account, or None before their first tokens.  One query."""
    return Account.objects.filter(member=member).first()


def visit_get_in_circle(*, circle: Circle, visit_id: int) -> Visit:
    """A visit of ``circle`` by id; Http404 for none, or one of another circle.  One query."""
    visit = Visit.objects.filter(circle=circle, pk=visit_id).first()
    if visit is None:
        raise Http404
    return visit


def bundle_get_in_circle(*, circle: Circle, bundle_id: int) -> TokenBundle | None:
    """A token bundle of ``circle`` by id (on sale or not), or None.  One query."""
    return TokenBundle.objects.filter(circle=circle, pk=bundle_id).first()


def payment_get(*, payment_id: int) -> Payment | None:
    """A payment by id, or None (a retried Idempotency-Key's payment).  One query."""
    return Payment.objects.filter(pk=payment_id).first()


def transfer_get(*, transfer_id: int) -> Transfer | None:
    """A transfer by id, or None (a retried Idempotency-Key's grant).  One query."""
    return Transfer.objects.filter(pk=transfer_id).first()
