"""The JSON shapes of the circles API: what a circle's public page shows, a member's own
requests and statement, and what coordinators see.  Plain dicts the schemas validate."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from localsocial.circles.models import (
    Circle,
    Entry,
    HelpRequest,
    Match,
    Member,
    Offer,
    Payment,
    Transfer,
    Visit,
)
from localsocial.circles.selectors.help import Candidate


def circle_out(circle: Circle) -> dict[str, Any]:
    """A circle as its public page shows it (``bundles_on_sale`` prefetched)."""
    return {
        "slug": circle.slug,
        "name": circle.name,
        "description": circle.description,
        "area": {"gss_code": circle.area.gss_code, "name": circle.area.name} if circle.area else None,
        "organisation": (
            {"slug": circle.organisation.slug, "name": circle.organisation.name} if circle.organisation else None
        ),
        "annual_fee_pence": circle.annual_fee_pence,
        "open_to_new_members": circle.is_active,
        "minimum_age": circle.minimum_age,
        "welcome_quarters": circle.welcome_quarters,
        "bundles": [
            {"name": b.name, "quarters": b.quarters, "price_pence": b.price_pence}
            for b in getattr(circle, "bundles_on_sale", [])
        ],
        "url": settings.SITE_URL + reverse("circles:circle", kwargs={"slug": circle.slug}),
    }


def offer_out(offer: Offer) -> dict[str, Any]:
    """A listed offer, as the offers page shows it (``helper`` selected)."""
    return {"id": offer.pk, "title": offer.title, "description": offer.description, "category": offer.category,
            "category_label": str(offer.get_category_display()), "place": offer.place,
            "place_label": str(offer.get_place_display()), "helper_name": offer.helper.display_name}


def _visit_of(help_request: HelpRequest) -> Visit | None:
    try:
        return help_request.visit
    except Visit.DoesNotExist:
        return None


def request_out(help_request: HelpRequest) -> dict[str, Any]:
    """A member's own request with its visit (``visit__helper`` selected)."""
    visit = _visit_of(help_request)
    return {
        "id": help_request.pk,
        "category": help_request.category,
        "category_label": str(help_request.get_category_display()),
        "description": help_request.description,
        "starts_at": help_request.starts_at,
        "when_note": help_request.when_note,
        "estimated_quarters": help_request.estimated_quarters,
        "place": help_request.place,
        "place_label": str(help_request.get_place_display()),
        "place_details": help_request.place_details,
        "offer_id": help_request.offer_id,
        "status": help_request.status,
        "status_label": str(help_request.get_status_display()),
        "asked_by_coordinator": help_request.on_behalf_of_id is not None,
        "created_at": help_request.created_at,
        "visit": None if visit is None else {
            "id": visit.pk, "helper_name": visit.helper.display_name, "planned_start": visit.planned_start,
            "planned_end": visit.planned_end, "completed_at": visit.completed_at, "payment": visit.payment,
        },
    }


def entry_out(entry: Entry) -> dict[str, Any]:
    """A line of a token statement (``transfer`` selected)."""
    return {
        "id": entry.pk, "created_at": entry.created_at, "quarters": entry.quarters,
        "kind": entry.transfer.kind, "kind_label": str(entry.transfer.get_kind_display()),
        "memo": entry.transfer.memo, "transfer_id": entry.transfer_id,
    }


def queue_item_out(help_request: HelpRequest) -> dict[str, Any]:
    """A request in the matching queue with its member and live match (as
    ``help_queue_for_circle`` gives them)."""
    live = help_request.live_matches[0] if help_request.live_matches else None  # type: ignore[attr-defined]
    return {
        "id": help_request.pk, "category": help_request.category, "description": help_request.description,
        "starts_at": help_request.starts_at, "estimated_quarters": help_request.estimated_quarters,
        "place": help_request.place, "status": help_request.status,
        "member": {"id": help_request.member.pk, "display_name": help_request.member.display_name},
        "offer_id": help_request.offer_id,
        "match": None if live is None else {
            "id": live.pk, "helper_id": live.helper_id, "helper_name": live.helper.display_name,
            "status": live.status,
        },
    }


def candidate_out(candidate: Candidate) -> dict[str, Any]:
    """A helper ranked for a request, with the points and reason of each factor."""
    return {
        "helper_id": candidate.helper.pk, "helper_name": candidate.helper.display_name,
        "helper_kind": candidate.helper.kind, "eligible": candidate.eligible, "blocked": str(candidate.blocked),
        "points": candidate.points, "reason": candidate.reason,
        "factors": [{"name": f.name, "points": f.points, "reason": str(f.reason)} for f in candidate.factors],
        "match_status": candidate.match_status,
    }


def match_out(match: Match) -> dict[str, Any]:
    return {"id": match.pk, "request_id": match.request_id, "helper_id": match.helper_id, "status": match.status,
            "score": match.score, "reason": match.reason, "proposed_at": match.proposed_at}


def visit_out(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk, "request_id": visit.request_id, "planned_start": visit.planned_start,
        "planned_end": visit.planned_end, "member_confirmed": visit.member_confirmed_at is not None,
        "helper_confirmed": visit.helper_confirmed_at is not None,
        "coordinator_confirmed": visit.coordinator_confirmed_at is not None,
        "completed_at": visit.completed_at, "quarters": visit.quarters, "payment": visit.payment,
    }


def payment_out(payment: Payment) -> dict[str, Any]:
    return {"id": payment.pk, "member_id": payment.member_id, "purpose": payment.purpose, "method": payment.method,
            "status": payment.status, "amount_pence": payment.amount_pence, "bundle_id": payment.bundle_id,
            "completed_at": payment.completed_at}


def grant_out(transfer: Transfer, member: Member) -> dict[str, Any]:
    """Tokens granted to ``member``: the quarters credited by ``transfer`` (one query for
    its entries)."""
    quarters = sum(e.quarters for e in transfer.entries.all() if e.quarters > 0)
    return {"transfer_id": transfer.pk, "member_id": member.pk, "quarters": quarters, "memo": transfer.memo,
            "created_at": transfer.created_at}
