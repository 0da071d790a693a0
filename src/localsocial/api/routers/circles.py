"""/api/circles/: time-banking circles.

* Public (no token): the circles open to new members, and any one circle — name, area, fee,
  eligibility and the token bundles on sale, as the circle's public page shows them.
* ``circles:member``: the listed offers of a circle the token's person belongs to (as a
  member, a helper or a coordinator — as the offers page); the person's own help requests
  (list, ask, cancel) and their own token statement.
* ``circles:coordinate``: the matching queue, ranked candidates with reasons, offering a
  request to a helper and withdrawing the offer, confirming a visit, recording a payment and
  granting tokens — in a circle the token's person coordinates (or any, for a site
  administrator).  The role is checked again on every request: a coordinator's token for
  circle A is refused (403) in circle B, and stops working when the person stops coordinating.

Every write calls the circles service that the web pages call, so the rules are the same.
POSTs that create something or move money or tokens (asking for help, recording a payment,
granting tokens) need an ``Idempotency-Key``: a retry with the same key and body answers as
the first request did (with ``Idempotent-Replayed: true``) and changes nothing.  The other
POSTs are idempotent by nature (doing them twice is the same as once).  Services' refusals
about a record's state (a request that already has a helper, an unvetted helper for a home
visit) are a 409; bad input is a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from localsocial.api.auth import token_auth, token_require_scope, write_throttle
from localsocial.api.errors import FieldErrors, Problem
from localsocial.api.models import ApiToken, TokenScope
from localsocial.api.selectors import (
    circle_get_for_api,
    circle_page_for_api,
    help_request_page_for_member,
    member_account_for_api,
)
from localsocial.api.services import (
    IdempotencyKeyReused,
    api_circles_idempotent,
    request_fingerprint,
)
from localsocial.circles.models import (
    Circle,
    Helper,
    HelpRequest,
    Match,
    Member,
    MemberStatus,
    Payment,
    PaymentPurpose,
    Transfer,
    Visit,
)
from localsocial.circles.selectors import help as help_selectors
from localsocial.circles.selectors.ledger import statement_page
from localsocial.circles.services import help as help_services
from localsocial.circles.services.help import DESCRIPTION_MAX, MAX_ESTIMATED_QUARTERS
from localsocial.circles.services.membership import member_tokens_grant
from localsocial.circles.services.payments import payment_record
from localsocial.core.pagination import InvalidCursorError, KeysetPage

router = Router()

MAX_ID = 2**63 - 1
_SLUG = Path(..., max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")
_KEY_DESCRIPTION = (
    "Any unique string (a UUID): a request retried with the same key and body changes nothing "
    "and gets the first answer again."
)
CategoryName = Literal["home_jobs", "garden", "tech", "trips", "shopping", "company", "learning"]
PlaceName = Literal["home", "out", "remote"]
PaymentMethodName = Literal["cash", "cheque", "bank_transfer"]
PaymentPurposeName = Literal["fee", "tokens", "gift"]


# --- Schemas ----------------------------------------------------------------------------------

class ErrorOut(Schema):
    detail: Any = Field(description="A sentence; for 422 on a body, a list of {loc, msg, type}.")


class Ref(Schema):
    slug: str
    name: str


class AreaRef(Schema):
    gss_code: str
    name: str


class BundleOut(Schema):
    name: str
    quarters: int = Field(description="Tokens in quarter hours: 4 quarters are 1 token (1 hour of help).")
    price_pence: int


class CircleOut(Schema):
    slug: str
    name: str
    description: str
    area: AreaRef | None
    organisation: Ref | None = Field(description="The organisation that runs the circle, if it is in the directory.")
    annual_fee_pence: int
    open_to_new_members: bool
    minimum_age: int | None = Field(description="Eligibility: members say they are this age or older (null: any age).")
    welcome_quarters: int = Field(description="Tokens each new member is given, in quarter hours.")
    bundles: list[BundleOut] = Field(description="Token bundles on sale, smallest first.")
    url: str


class CirclePage(Schema):
    items: list[CircleOut]
    next_cursor: str | None
    previous_cursor: str | None


class OfferOut(Schema):
    id: int
    title: str
    description: str
    category: str
    category_label: str
    place: str
    place_label: str
    helper_name: str = Field(description="The name the helper is shown by, as on the offers page.")


class OfferList(Schema):
    items: list[OfferOut]


class VisitBrief(Schema):
    id: int
    helper_name: str
    planned_start: datetime
    planned_end: datetime
    completed_at: datetime | None
    payment: str = Field(description="not_due, paid or owed.")


class HelpRequestOut(Schema):
    id: int
    category: str
    category_label: str
    description: str
    starts_at: datetime
    when_note: str
    estimated_quarters: int
    place: str
    place_label: str
    place_details: str
    offer_id: int | None
    status: str = Field(description="open, offered, arranged, done or cancelled.")
    status_label: str
    asked_by_coordinator: bool = Field(description="True when a coordinator asked for the member.")
    created_at: datetime
    visit: VisitBrief | None


class HelpRequestPage(Schema):
    items: list[HelpRequestOut]
    next_cursor: str | None
    previous_cursor: str | None


class HelpRequestIn(Schema):
    category: CategoryName = Field(description="The kind of help; taken from the offer when offer_id is given.")
    description: str = Field(max_length=DESCRIPTION_MAX * 2, description="What the member needs help with.")
    starts_at: datetime = Field(description="When, in the future (ISO 8601; without an offset, UK time).")
    estimated_quarters: int = Field(ge=1, le=MAX_ESTIMATED_QUARTERS, description="How long, in quarter hours.")
    place: PlaceName
    place_details: str = Field(
        "", max_length=300, description="Address or meeting place; for help at home, the member's address if blank."
    )
    when_note: str = Field("", max_length=200)
    offer_id: int | None = Field(None, ge=1, le=MAX_ID, description="Ask for help from this listed offer.")


class EntryOut(Schema):
    id: int
    created_at: datetime
    quarters: int = Field(description="In (positive) or out (negative), in quarter hours.")
    kind: str
    kind_label: str
    memo: str
    transfer_id: int


class StatementOut(Schema):
    balance_quarters: int
    items: list[EntryOut] = Field(description="Entries, newest first.")
    next_cursor: str | None
    previous_cursor: str | None


class MemberRef(Schema):
    id: int
    display_name: str


class LiveMatch(Schema):
    id: int
    helper_id: int
    helper_name: str
    status: str = Field(description="offered (waiting for the helper) or accepted.")


class QueueItem(Schema):
    id: int
    category: str
    description: str
    starts_at: datetime
    estimated_quarters: int
    place: str
    status: str
    member: MemberRef
    offer_id: int | None
    match: LiveMatch | None


class QueueOut(Schema):
    items: list[QueueItem] = Field(description="Requests waiting for a helper or an answer, soonest first (at most 200).")


class FactorOut(Schema):
    name: str
    points: int
    reason: str


class CandidateOut(Schema):
    helper_id: int
    helper_name: str
    helper_kind: str
    eligible: bool
    blocked: str = Field(description="Why the helper cannot be offered this request, if not eligible.")
    points: int
    reason: str
    factors: list[FactorOut]
    match_status: str = Field(description="The helper's earlier answer about this request, if any.")


class CandidateList(Schema):
    items: list[CandidateOut] = Field(description="Eligible helpers first, most points first.")


class MatchIn(Schema):
    helper_id: int = Field(ge=1, le=MAX_ID)


class MatchOut(Schema):
    id: int
    request_id: int
    helper_id: int
    status: str = Field(description="offered, accepted, declined or withdrawn.")
    score: int
    reason: str
    proposed_at: datetime


class VisitOut(Schema):
    id: int
    request_id: int
    planned_start: datetime
    planned_end: datetime
    member_confirmed: bool
    helper_confirmed: bool
    coordinator_confirmed: bool
    completed_at: datetime | None
    quarters: int | None
    payment: str = Field(description="not_due, paid or owed (the member had too few tokens).")


class PaymentIn(Schema):
    purpose: PaymentPurposeName
    method: PaymentMethodName
    amount_pence: int = Field(ge=1, le=100_000_000)
    bundle_id: int | None = Field(None, ge=1, le=MAX_ID, description="For tokens or a gift: a bundle on sale.")
    reference: str = Field("", max_length=200)
    payer_name: str = Field("", max_length=200, description="For a gift: who gave it.")
    payer_email: str = Field("", max_length=254, description="For a gift: where to send a receipt.")


class PaymentOut(Schema):
    id: int
    member_id: int
    purpose: str
    method: str
    status: str
    amount_pence: int
    bundle_id: int | None
    completed_at: datetime | None


class GrantIn(Schema):
    quarters: int = Field(ge=1, le=10_000, description="Tokens to give, in quarter hours.")
    memo: str = Field("", max_length=300)


class GrantOut(Schema):
    transfer_id: int
    member_id: int
    quarters: int
    memo: str
    created_at: datetime


# --- Helpers ------------------------------------------------------------------------------------

def _token(request: HttpRequest) -> ApiToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, ApiToken)
    return token


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _bad_cursor(exc: InvalidCursorError) -> HttpError:
    return HttpError(422, "cursor is not valid: use next_cursor or previous_cursor from a response.")


def _circle(slug: str) -> Circle:
    circle = Circle.objects.filter(slug=slug).first()
    if circle is None:
        raise HttpError(404, "There is no circle with this slug.")
    return circle


def _coordinated_circle(request: HttpRequest, slug: str) -> tuple[ApiToken, Circle]:
    """The circle, if the token has ``circles:coordinate`` and its person coordinates the
    circle now (or is a site administrator).  403 otherwise; 404 for no such circle."""
    token = _token(request)
    token_require_scope(token=token, scope=TokenScope.CIRCLES_COORDINATE)
    circle = _circle(slug)
    if not token.user.has_perm("circles.coordinate", circle):
        raise PermissionDenied("The token's owner does not coordinate this circle.")
    return token, circle


def _own_member(request: HttpRequest, slug: str) -> tuple[ApiToken, Member]:
    """The token's person's membership of the circle (any status: a lapsed member still sees
    their requests and statement), if the token has ``circles:member``."""
    token = _token(request)
    token_require_scope(token=token, scope=TokenScope.CIRCLES_MEMBER)
    circle = _circle(slug)
    member = Member.objects.select_related("circle", "user").filter(circle=circle, user_id=token.user_id).first()
    if member is None:
        raise PermissionDenied("The token's owner is not a member of this circle.")
    return token, member


def _conflict(error: ValidationError) -> HttpError:
    return HttpError(409, " ".join(str(message) for message in error.messages))


def _key(value: str) -> str:
    key = value.strip()
    if not key:
        raise FieldErrors([{"loc": ["header", "Idempotency-Key"], "msg": "Send a non-blank Idempotency-Key.",
                            "type": "invalid"}])
    return key


def _page(page: KeysetPage[Any], convert: Any) -> dict[str, Any]:
    return {"items": [convert(item) for item in page.items],
            "next_cursor": page.next_cursor, "previous_cursor": page.previous_cursor}


def _circle_out(circle: Circle) -> dict[str, Any]:
    from django.conf import settings
    from django.urls import reverse

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


def _visit_of(help_request: HelpRequest) -> Visit | None:
    try:
        return help_request.visit
    except Visit.DoesNotExist:
        return None


def _request_out(help_request: HelpRequest) -> dict[str, Any]:
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


def _match_out(match: Match) -> dict[str, Any]:
    return {"id": match.pk, "request_id": match.request_id, "helper_id": match.helper_id, "status": match.status,
            "score": match.score, "reason": match.reason, "proposed_at": match.proposed_at}


def _visit_out(visit: Visit) -> dict[str, Any]:
    return {
        "id": visit.pk, "request_id": visit.request_id, "planned_start": visit.planned_start,
        "planned_end": visit.planned_end, "member_confirmed": visit.member_confirmed_at is not None,
        "helper_confirmed": visit.helper_confirmed_at is not None,
        "coordinator_confirmed": visit.coordinator_confirmed_at is not None,
        "completed_at": visit.completed_at, "quarters": visit.quarters, "payment": visit.payment,
    }


def _payment_out(payment: Payment) -> dict[str, Any]:
    return {"id": payment.pk, "member_id": payment.member_id, "purpose": payment.purpose, "method": payment.method,
            "status": payment.status, "amount_pence": payment.amount_pence, "bundle_id": payment.bundle_id,
            "completed_at": payment.completed_at}


def _grant_out(transfer: Transfer, member: Member) -> dict[str, Any]:
    quarters = sum(e.quarters for e in transfer.entries.all() if e.quarters > 0)
    return {"transfer_id": transfer.pk, "member_id": member.pk, "quarters": quarters, "memo": transfer.memo,
            "created_at": transfer.created_at}


def _aware(value: datetime) -> datetime:
    if value.year >= 9999 or value.year <= 1:
        raise FieldErrors.one("starts_at", "Enter a real date and time.")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# --- Public ---------------------------------------------------------------------------------------

class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


@router.get("/", response={200: CirclePage, 422: ErrorOut}, summary="List circles open to new members")
def circle_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """Circles open to new members, by name, with fee, eligibility and bundles on sale."""
    try:
        page = circle_page_for_api(cursor=_blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return _page(page, _circle_out)


@router.get("/{slug}", response={200: CircleOut, 404: ErrorOut, 422: ErrorOut}, summary="One circle")
def circle_get(request: HttpRequest, slug: str = _SLUG) -> dict[str, Any]:
    """A circle as its public page shows it."""
    try:
        return _circle_out(circle_get_for_api(slug=slug))
    except Http404 as exc:
        raise HttpError(404, str(exc)) from exc


@router.get(
    "/{slug}/offers/", auth=token_auth,
    response={200: OfferList, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Help on offer in a circle (scope circles:member or circles:coordinate)",
)
def offer_list(request: HttpRequest, slug: str = _SLUG) -> dict[str, Any]:
    """The circle's listed offers, as the offers page shows them to the circle's members,
    helpers and coordinators (and to nobody else)."""
    token = _token(request)
    scopes = token.scopes or []
    if TokenScope.CIRCLES_MEMBER not in scopes and TokenScope.CIRCLES_COORDINATE not in scopes:
        raise PermissionDenied("This token does not have the circles:member scope.")
    circle = _circle(slug)
    user = token.user
    is_coordinator = bool(user.has_perm("circles.coordinate", circle))
    belongs = TokenScope.CIRCLES_MEMBER in scopes and (
        Member.objects.filter(circle=circle, user=user, status=MemberStatus.ACTIVE).exists()
        or Helper.objects.filter(circle=circle, user=user, is_active=True).exists()
    )
    if not (belongs or is_coordinator):
        raise PermissionDenied("The token's owner is not a member, helper or coordinator of this circle.")
    return {"items": [
        {"id": offer.pk, "title": offer.title, "description": offer.description, "category": offer.category,
         "category_label": str(offer.get_category_display()), "place": offer.place,
         "place_label": str(offer.get_place_display()), "helper_name": offer.helper.display_name}
        for offer in help_selectors.offers_for_circle(circle=circle)
    ]}


# --- Member ---------------------------------------------------------------------------------------

@router.get(
    "/{slug}/requests/", auth=token_auth,
    response={200: HelpRequestPage, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Your requests for help in a circle (scope circles:member)",
)
def my_requests(request: HttpRequest, params: Query[PageParams], slug: str = _SLUG) -> dict[str, Any]:
    """The token's person's own requests in the circle, latest first, with their visits."""
    _, member = _own_member(request, slug)
    try:
        page = help_request_page_for_member(member=member, cursor=_blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return _page(page, _request_out)


@router.post(
    "/{slug}/requests/", auth=token_auth, throttle=[write_throttle],
    response={201: HelpRequestOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Ask for help (scope circles:member)",
)
def my_request_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: HelpRequestIn,
    slug: str = _SLUG,
    idempotency_key: str = Header(..., alias="Idempotency-Key", max_length=255, description=_KEY_DESCRIPTION),
) -> Status[dict[str, Any]]:
    """A new request for help by the token's person, an active member of the circle; the
    coordinators are emailed.  The same rules as the "Ask for help" page."""
    token, member = _own_member(request, slug)
    key = _key(idempotency_key)
    starts_at = _aware(payload.starts_at)
    offer = None
    if payload.offer_id is not None:
        try:
            offer = help_selectors.offer_get_listed(circle=member.circle, offer_id=payload.offer_id)
        except Http404 as exc:
            raise FieldErrors.one("offer_id", "There is no listed offer with this id in the circle.") from exc

    def perform(service_key: str) -> HelpRequest:
        return help_services.help_request_create(
            member=member, actor=token.user, category=offer.category if offer else payload.category,
            description=payload.description, starts_at=starts_at, estimated_quarters=payload.estimated_quarters,
            place=payload.place, idempotency_key=service_key, place_details=payload.place_details,
            when_note=payload.when_note, offer=offer, request=request,
        )

    try:
        help_request, replayed = api_circles_idempotent(
            token=token, idempotency_key=key, operation="circles.help_request_create",
            fingerprint=request_fingerprint({"op": "help_request_create", "circle": member.circle_id,
                                             **payload.model_dump()}),
            perform=perform,
            load=lambda pk: HelpRequest.objects.select_related("visit__helper").get(pk=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, "This Idempotency-Key was already used with a different request: use a new key.",
                      type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, _request_out(help_request))


@router.post(
    "/{slug}/requests/{request_id}/cancel", auth=token_auth, throttle=[write_throttle],
    response={200: HelpRequestOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Cancel your request (scope circles:member)",
)
def my_request_cancel(
    request: HttpRequest, slug: str = _SLUG, request_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """Cancel one of your requests that has no helper yet; cancelling twice is harmless.
    409 once a helper has accepted (ask a coordinator)."""
    token, member = _own_member(request, slug)
    help_request = HelpRequest.objects.filter(pk=request_id, member=member).first()
    if help_request is None:
        raise HttpError(404, "You have no request with this id in this circle.")
    try:
        cancelled = help_services.help_request_cancel(help_request=help_request, actor=token.user, request=request)
    except ValidationError as error:
        raise _conflict(error) from error
    return _request_out(cancelled)


@router.get(
    "/{slug}/statement/", auth=token_auth,
    response={200: StatementOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Your token statement in a circle (scope circles:member)",
)
def my_statement(request: HttpRequest, params: Query[PageParams], slug: str = _SLUG) -> dict[str, Any]:
    """Your balance and your account's entries, newest first, a page at a time."""
    _, member = _own_member(request, slug)
    account = member_account_for_api(member=member)
    if account is None:
        return {"balance_quarters": 0, "items": [], "next_cursor": None, "previous_cursor": None}
    try:
        page = statement_page(account=account, cursor=_blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise _bad_cursor(exc) from exc
    return {
        "balance_quarters": account.balance_quarters,
        **_page(page, lambda entry: {
            "id": entry.pk, "created_at": entry.created_at, "quarters": entry.quarters,
            "kind": entry.transfer.kind, "kind_label": str(entry.transfer.get_kind_display()),
            "memo": entry.transfer.memo, "transfer_id": entry.transfer_id,
        }),
    }


# --- Coordinator ----------------------------------------------------------------------------------

@router.get(
    "/{slug}/queue/", auth=token_auth,
    response={200: QueueOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="The matching queue (scope circles:coordinate)",
)
def queue(request: HttpRequest, slug: str = _SLUG) -> dict[str, Any]:
    """Requests waiting for a helper, or for a helper's answer, soonest first."""
    _, circle = _coordinated_circle(request, slug)
    items = []
    for help_request in help_selectors.help_queue_for_circle(circle=circle):
        live = help_request.live_matches[0] if help_request.live_matches else None  # type: ignore[attr-defined]
        items.append({
            "id": help_request.pk, "category": help_request.category, "description": help_request.description,
            "starts_at": help_request.starts_at, "estimated_quarters": help_request.estimated_quarters,
            "place": help_request.place, "status": help_request.status,
            "member": {"id": help_request.member.pk, "display_name": help_request.member.display_name},
            "offer_id": help_request.offer_id,
            "match": None if live is None else {
                "id": live.pk, "helper_id": live.helper_id, "helper_name": live.helper.display_name,
                "status": live.status,
            },
        })
    return {"items": items}


def _request_in(circle: Circle, request_id: int) -> HelpRequest:
    try:
        return help_selectors.help_request_get_for_coordinator(circle=circle, request_id=request_id)
    except Http404 as exc:
        raise HttpError(404, "There is no request with this id in this circle.") from exc


@router.get(
    "/{slug}/requests/{request_id}/candidates", auth=token_auth,
    response={200: CandidateList, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Helpers ranked for a request, with reasons (scope circles:coordinate)",
)
def candidates(request: HttpRequest, slug: str = _SLUG, request_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """Every active helper of the circle ranked for the request: points per factor (skill,
    distance, availability, vetting, feedback, workload) and why, in plain words."""
    _, circle = _coordinated_circle(request, slug)
    help_request = _request_in(circle, request_id)
    return {"items": [
        {"helper_id": c.helper.pk, "helper_name": c.helper.display_name, "helper_kind": c.helper.kind,
         "eligible": c.eligible, "blocked": str(c.blocked), "points": c.points, "reason": c.reason,
         "factors": [{"name": f.name, "points": f.points, "reason": str(f.reason)} for f in c.factors],
         "match_status": c.match_status}
        for c in help_selectors.helpers_rank_for_request(help_request=help_request)
    ]}


@router.post(
    "/{slug}/requests/{request_id}/matches", auth=token_auth, throttle=[write_throttle],
    response={201: MatchOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Offer a request to a helper (scope circles:coordinate)",
)
def match_propose(
    request: HttpRequest, payload: MatchIn, slug: str = _SLUG, request_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[dict[str, Any]]:
    """Offer the request to one helper of the circle, who is emailed.  Offering it to the
    same helper again returns the same match.  409 when the request is not waiting for a
    helper, or the helper may not take it (not vetted for a home visit, already asked)."""
    token, circle = _coordinated_circle(request, slug)
    help_request = _request_in(circle, request_id)
    helper = help_selectors.helper_get_in_circle(circle=circle, helper_id=payload.helper_id)
    if helper is None:
        raise FieldErrors.one("helper_id", "There is no helper with this id in this circle.")
    try:
        match = help_services.match_propose(help_request=help_request, helper=helper, actor=token.user, request=request)
    except ValidationError as error:
        raise _conflict(error) from error
    return Status(201, _match_out(match))


@router.post(
    "/{slug}/matches/{match_id}/withdraw", auth=token_auth, throttle=[write_throttle],
    response={200: MatchOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Withdraw an unanswered offer (scope circles:coordinate)",
)
def match_withdraw(request: HttpRequest, slug: str = _SLUG, match_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """Take back an offer the helper has not answered; the request is open again.  Twice is
    harmless; 409 once the helper has answered."""
    token, circle = _coordinated_circle(request, slug)
    try:
        match = help_selectors.match_get_for_coordinator(circle=circle, match_id=match_id)
    except Http404 as exc:
        raise HttpError(404, "There is no match with this id in this circle.") from exc
    try:
        withdrawn = help_services.match_withdraw(match=match, actor=token.user, request=request)
    except ValidationError as error:
        raise _conflict(error) from error
    return _match_out(withdrawn)


@router.post(
    "/{slug}/visits/{visit_id}/confirm", auth=token_auth, throttle=[write_throttle],
    response={200: VisitOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Confirm a visit happened, as a coordinator (scope circles:coordinate)",
)
def visit_confirm(request: HttpRequest, slug: str = _SLUG, visit_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """A coordinator's confirmation counts for both sides: the visit is complete and the
    member's tokens pay for it, once (``payment`` is owed if they had too few).  Confirming
    again changes nothing.  409 before the visit has started."""
    token, circle = _coordinated_circle(request, slug)
    visit = Visit.objects.filter(circle=circle, pk=visit_id).first()
    if visit is None:
        raise HttpError(404, "There is no visit with this id in this circle.")
    try:
        confirmed = help_services.visit_confirm(visit=visit, actor=token.user, request=request)
    except ValidationError as error:
        raise _conflict(error) from error
    return _visit_out(confirmed)


def _member_in(circle: Circle, member_id: int) -> Member:
    member = Member.objects.select_related("circle", "user").filter(circle=circle, pk=member_id).first()
    if member is None:
        raise HttpError(404, "There is no member with this id in this circle.")
    return member


@router.post(
    "/{slug}/members/{member_id}/payments", auth=token_auth, throttle=[write_throttle],
    response={201: PaymentOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Record a payment received for a member (scope circles:coordinate)",
)
def payment_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: PaymentIn,
    slug: str = _SLUG,
    member_id: int = Path(..., ge=1, le=MAX_ID),
    idempotency_key: str = Header(..., alias="Idempotency-Key", max_length=255, description=_KEY_DESCRIPTION),
) -> Status[dict[str, Any]]:
    """Cash, a cheque or a bank transfer received for a member: a fee pays their next unpaid
    year; tokens or a gift put the bundle's tokens in their account.  Recorded once per key."""
    from localsocial.circles.models import TokenBundle

    token, circle = _coordinated_circle(request, slug)
    member = _member_in(circle, member_id)
    key = _key(idempotency_key)
    bundle = None
    if payload.bundle_id is not None and payload.purpose != PaymentPurpose.FEE:
        bundle = TokenBundle.objects.filter(circle=circle, pk=payload.bundle_id).first()
        if bundle is None:
            raise FieldErrors.one("bundle_id", "There is no bundle with this id in this circle.")

    def perform(service_key: str) -> Payment:
        payment, _created = payment_record(
            circle=circle, member=member, actor=token.user, purpose=payload.purpose, method=payload.method,
            amount_pence=payload.amount_pence, idempotency_key=service_key, bundle=bundle,
            reference=payload.reference, payer_name=payload.payer_name, payer_email=payload.payer_email,
            request=request,
        )
        return payment

    try:
        payment, replayed = api_circles_idempotent(
            token=token, idempotency_key=key, operation="circles.payment_record",
            fingerprint=request_fingerprint({"op": "payment_record", "member": member.pk, **payload.model_dump()}),
            perform=perform, load=lambda pk: Payment.objects.get(pk=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, "This Idempotency-Key was already used with a different request: use a new key.",
                      type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(
            error, {"amount": "amount_pence", "bundle": "bundle_id", "__all__": "payload"}
        ) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, _payment_out(payment))


@router.post(
    "/{slug}/members/{member_id}/grants", auth=token_auth, throttle=[write_throttle],
    response={201: GrantOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Give a member tokens from the circle (scope circles:coordinate)",
)
def grant_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: GrantIn,
    slug: str = _SLUG,
    member_id: int = Path(..., ge=1, le=MAX_ID),
    idempotency_key: str = Header(..., alias="Idempotency-Key", max_length=255, description=_KEY_DESCRIPTION),
) -> Status[dict[str, Any]]:
    """Tokens from the circle to a member (a welcome, a thank-you).  Granted once per key."""
    token, circle = _coordinated_circle(request, slug)
    member = _member_in(circle, member_id)
    key = _key(idempotency_key)

    def perform(service_key: str) -> Transfer:
        return member_tokens_grant(member=member, actor=token.user, quarters=payload.quarters, memo=payload.memo,
                                   idempotency_key=service_key, request=request)

    try:
        transfer, replayed = api_circles_idempotent(
            token=token, idempotency_key=key, operation="circles.member_tokens_grant",
            fingerprint=request_fingerprint({"op": "member_tokens_grant", "member": member.pk, **payload.model_dump()}),
            perform=perform, load=lambda pk: Transfer.objects.get(pk=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, "This Idempotency-Key was already used with a different request: use a new key.",
                      type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error, {"tokens": "quarters", "__all__": "payload"}) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, _grant_out(transfer, member))

