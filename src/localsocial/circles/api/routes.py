"""/api/circles/: time-banking circles.

* Public (no token): the circles open to new members, and any one circle — name, area, fee,
  eligibility and the token bundles on sale, as the circle's public page shows them.
* ``circles:member``: the listed offers of a circle the token's person belongs to (as a
  member, a helper or a coordinator — the ``circles.view_offers`` rule of the offers page);
  the person's own help requests (list, ask, cancel) and their own token statement.
* ``circles:coordinate``: the matching queue, ranked candidates with reasons, offering a
  request to a helper and withdrawing the offer, confirming a visit, recording a payment and
  granting tokens — in a circle the token's person coordinates (or any, for a site
  administrator).  The role is checked again on every request: a coordinator's token for
  circle A is refused (403) in circle B, and stops working when the person stops coordinating.

Every write calls the circles service that the web pages call, so the rules are the same;
every read is a circles selector.  POSTs that create something or move money or tokens
(asking for help, recording a payment, granting tokens) need an ``Idempotency-Key``
(``api.idempotency``): a retry with the same key and body answers as the first request did
(with ``Idempotent-Replayed: true``) and changes nothing.  The other POSTs are idempotent by
nature (doing them twice is the same as once).  Services' refusals about a record's state (a
request that already has a helper, an unvetted helper for a home visit) are a 409; bad input
is a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header, Path, Query, Router, Status
from ninja.errors import HttpError

from localsocial.api.auth import request_token, token_auth, token_require_scope, write_throttle
from localsocial.api.errors import FieldErrors, Problem
from localsocial.api.idempotency import IdempotencyKeyReused, idempotent_call, request_fingerprint
from localsocial.api.models import ApiToken
from localsocial.api.pagination import bad_cursor, blank, page_out
from localsocial.circles.api.representations import (
    candidate_out,
    circle_out,
    entry_out,
    grant_out,
    match_out,
    offer_out,
    payment_out,
    queue_item_out,
    request_out,
    visit_out,
)
from localsocial.circles.api.schemas import (
    MAX_ID,
    CandidateList,
    CircleOut,
    CirclePage,
    ErrorOut,
    GrantIn,
    GrantOut,
    HelpRequestIn,
    HelpRequestOut,
    HelpRequestPage,
    MatchIn,
    MatchOut,
    OfferList,
    PageParams,
    PaymentIn,
    PaymentOut,
    QueueOut,
    StatementOut,
    VisitOut,
)
from localsocial.circles.api.scopes import CIRCLES_COORDINATE, CIRCLES_MEMBER
from localsocial.circles.models import (
    Circle,
    HelpRequest,
    Member,
    Payment,
    PaymentPurpose,
    Transfer,
)
from localsocial.circles.selectors import api as api_selectors
from localsocial.circles.selectors import help as help_selectors
from localsocial.circles.selectors import membership as membership_selectors
from localsocial.circles.selectors.ledger import statement_page
from localsocial.circles.services import help as help_services
from localsocial.circles.services.membership import member_tokens_grant
from localsocial.circles.services.payments import payment_record
from localsocial.core.pagination import InvalidCursorError

router = Router()

_SLUG = Path(..., max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")
_KEY_DESCRIPTION = (
    "Any unique string (a UUID): a request retried with the same key and body changes nothing "
    "and gets the first answer again."
)
_KEY_REUSED = "This Idempotency-Key was already used with a different request: use a new key."


# --- Helpers ------------------------------------------------------------------------------------

def _circle(slug: str) -> Circle:
    try:
        return membership_selectors.circle_get(slug=slug)
    except Http404 as exc:
        raise HttpError(404, "There is no circle with this slug.") from exc


def _coordinated_circle(request: HttpRequest, slug: str) -> tuple[ApiToken, Circle]:
    """The circle, if the token has ``circles:coordinate`` and its person coordinates the
    circle now (or is a site administrator).  403 otherwise; 404 for no such circle."""
    token = request_token(request)
    token_require_scope(token=token, scope=CIRCLES_COORDINATE)
    circle = _circle(slug)
    if not token.user.has_perm("circles.coordinate", circle):
        raise PermissionDenied("The token's owner does not coordinate this circle.")
    return token, circle


def _own_member(request: HttpRequest, slug: str) -> tuple[ApiToken, Member]:
    """The token's person's membership of the circle (any status: a lapsed member still sees
    their requests and statement), if the token has ``circles:member``."""
    token = request_token(request)
    token_require_scope(token=token, scope=CIRCLES_MEMBER)
    circle = _circle(slug)
    member = membership_selectors.member_get_own(circle=circle, user=token.user)
    if member is None:
        raise PermissionDenied("The token's owner is not a member of this circle.")
    return token, member


def _member_in(circle: Circle, member_id: int) -> Member:
    try:
        return membership_selectors.member_in_circle(circle=circle, member_id=member_id)
    except Http404 as exc:
        raise HttpError(404, "There is no member with this id in this circle.") from exc


def _request_in(circle: Circle, request_id: int) -> HelpRequest:
    try:
        return help_selectors.help_request_get_for_coordinator(circle=circle, request_id=request_id)
    except Http404 as exc:
        raise HttpError(404, "There is no request with this id in this circle.") from exc


def _conflict(error: ValidationError) -> HttpError:
    return HttpError(409, " ".join(str(message) for message in error.messages))


def _key(value: str) -> str:
    key = value.strip()
    if not key:
        raise FieldErrors([{"loc": ["header", "Idempotency-Key"], "msg": "Send a non-blank Idempotency-Key.",
                            "type": "invalid"}])
    return key


def _aware(value: datetime) -> datetime:
    if value.year >= 9999 or value.year <= 1:
        raise FieldErrors.one("starts_at", "Enter a real date and time.")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# --- Public ---------------------------------------------------------------------------------------

@router.get("/", response={200: CirclePage, 422: ErrorOut}, summary="List circles open to new members")
def circle_list(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    """Circles open to new members, by name, with fee, eligibility and bundles on sale."""
    try:
        page = api_selectors.circle_page_for_api(cursor=blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return page_out(page, circle_out)


@router.get("/{slug}", response={200: CircleOut, 404: ErrorOut, 422: ErrorOut}, summary="One circle")
def circle_get(request: HttpRequest, slug: str = _SLUG) -> dict[str, Any]:
    """A circle as its public page shows it."""
    try:
        return circle_out(api_selectors.circle_get_for_api(slug=slug))
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
    token = request_token(request)
    scopes = token.scopes or []
    if CIRCLES_MEMBER not in scopes and CIRCLES_COORDINATE not in scopes:
        raise PermissionDenied("This token does not have the circles:member scope.")
    circle = _circle(slug)
    # The offers page's rule; a token without circles:member carries only its person's
    # coordinating, not their membership or helper role.
    permission = "circles.view_offers" if CIRCLES_MEMBER in scopes else "circles.coordinate"
    if not token.user.has_perm(permission, circle):
        raise PermissionDenied("The token's owner is not a member, helper or coordinator of this circle.")
    return {"items": [offer_out(offer) for offer in help_selectors.offers_for_circle(circle=circle)]}


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
        page = api_selectors.help_request_page_for_member(
            member=member, cursor=blank(params.cursor), page_size=params.limit
        )
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return page_out(page, request_out)


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

    def perform(service_key: str | None) -> HelpRequest:
        assert service_key is not None
        return help_services.help_request_create(
            member=member, actor=token.user, category=offer.category if offer else payload.category,
            description=payload.description, starts_at=starts_at, estimated_quarters=payload.estimated_quarters,
            place=payload.place, idempotency_key=service_key, place_details=payload.place_details,
            when_note=payload.when_note, offer=offer,
        )

    try:
        help_request, replayed = idempotent_call(
            token=token, idempotency_key=key, operation="circles.help_request_create",
            fingerprint=request_fingerprint({"op": "help_request_create", "circle": member.circle_id,
                                             **payload.model_dump()}),
            perform=perform,
            load=lambda pk: api_selectors.help_request_get_with_visit(request_id=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, _KEY_REUSED, type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, request_out(help_request))


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
    try:
        help_request = api_selectors.help_request_get_of_member(member=member, request_id=request_id)
    except Http404 as exc:
        raise HttpError(404, "You have no request with this id in this circle.") from exc
    try:
        cancelled = help_services.help_request_cancel(help_request=help_request, actor=token.user)
    except ValidationError as error:
        raise _conflict(error) from error
    return request_out(cancelled)


@router.get(
    "/{slug}/statement/", auth=token_auth,
    response={200: StatementOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Your token statement in a circle (scope circles:member)",
)
def my_statement(request: HttpRequest, params: Query[PageParams], slug: str = _SLUG) -> dict[str, Any]:
    """Your balance and your account's entries, newest first, a page at a time."""
    _, member = _own_member(request, slug)
    account = api_selectors.member_account_for_api(member=member)
    if account is None:
        return {"balance_quarters": 0, "items": [], "next_cursor": None, "previous_cursor": None}
    try:
        page = statement_page(account=account, cursor=blank(params.cursor), page_size=params.limit)
    except InvalidCursorError as exc:
        raise bad_cursor(exc) from exc
    return {"balance_quarters": account.balance_quarters, **page_out(page, entry_out)}


# --- Coordinator ----------------------------------------------------------------------------------

@router.get(
    "/{slug}/queue/", auth=token_auth,
    response={200: QueueOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="The matching queue (scope circles:coordinate)",
)
def queue(request: HttpRequest, slug: str = _SLUG) -> dict[str, Any]:
    """Requests waiting for a helper, or for a helper's answer, soonest first."""
    _, circle = _coordinated_circle(request, slug)
    return {"items": [queue_item_out(r) for r in help_selectors.help_queue_for_circle(circle=circle)]}


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
    return {"items": [candidate_out(c) for c in help_selectors.helpers_rank_for_request(help_request=help_request)]}


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
        match = help_services.match_propose(help_request=help_request, helper=helper, actor=token.user)
    except ValidationError as error:
        raise _conflict(error) from error
    return Status(201, match_out(match))


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
        withdrawn = help_services.match_withdraw(match=match, actor=token.user)
    except ValidationError as error:
        raise _conflict(error) from error
    return match_out(withdrawn)


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
    try:
        visit = api_selectors.visit_get_in_circle(circle=circle, visit_id=visit_id)
    except Http404 as exc:
        raise HttpError(404, "There is no visit with this id in this circle.") from exc
    try:
        confirmed = help_services.visit_confirm(visit=visit, actor=token.user)
    except ValidationError as error:
        raise _conflict(error) from error
    return visit_out(confirmed)


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
    token, circle = _coordinated_circle(request, slug)
    member = _member_in(circle, member_id)
    key = _key(idempotency_key)
    bundle = None
    if payload.bundle_id is not None and payload.purpose != PaymentPurpose.FEE:
        bundle = api_selectors.bundle_get_in_circle(circle=circle, bundle_id=payload.bundle_id)
        if bundle is None:
            raise FieldErrors.one("bundle_id", "There is no bundle with this id in this circle.")

    def perform(service_key: str | None) -> Payment:
        assert service_key is not None
        payment, _created = payment_record(
            circle=circle, member=member, actor=token.user, purpose=payload.purpose, method=payload.method,
            amount_pence=payload.amount_pence, idempotency_key=service_key, bundle=bundle,
            reference=payload.reference, payer_name=payload.payer_name, payer_email=payload.payer_email,
        )
        return payment

    try:
        payment, replayed = idempotent_call(
            token=token, idempotency_key=key, operation="circles.payment_record",
            fingerprint=request_fingerprint({"op": "payment_record", "member": member.pk, **payload.model_dump()}),
            perform=perform, load=lambda pk: api_selectors.payment_get(payment_id=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, _KEY_REUSED, type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(
            error, {"amount": "amount_pence", "bundle": "bundle_id", "__all__": "payload"}
        ) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, payment_out(payment))


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

    def perform(service_key: str | None) -> Transfer:
        assert service_key is not None
        return member_tokens_grant(member=member, actor=token.user, quarters=payload.quarters, memo=payload.memo,
                                   idempotency_key=service_key)

    try:
        transfer, replayed = idempotent_call(
            token=token, idempotency_key=key, operation="circles.member_tokens_grant",
            fingerprint=request_fingerprint({"op": "member_tokens_grant", "member": member.pk, **payload.model_dump()}),
            perform=perform, load=lambda pk: api_selectors.transfer_get(transfer_id=pk),
        )
    except IdempotencyKeyReused as exc:
        raise Problem(422, _KEY_REUSED, type_slug="idempotency-key-reused") from exc
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error, {"tokens": "quarters", "__all__": "payload"}) from error
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(201, grant_out(transfer, member))
