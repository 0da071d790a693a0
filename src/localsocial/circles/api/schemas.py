"""The circles API's request and response bodies, as described in the OpenAPI.  Amounts of
time are in quarter hours (4 quarters are 1 token, one hour of help); money in pence."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from localsocial.circles.services.help import DESCRIPTION_MAX, MAX_ESTIMATED_QUARTERS

MAX_ID = 2**63 - 1
CategoryName = Literal["home_jobs", "garden", "tech", "trips", "shopping", "company", "learning"]
PlaceName = Literal["home", "out", "remote"]
PaymentMethodName = Literal["cash", "cheque", "bank_transfer"]
PaymentPurposeName = Literal["fee", "tokens", "gift"]


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(20, ge=1, le=100)


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
