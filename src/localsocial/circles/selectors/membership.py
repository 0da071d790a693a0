"""Reads for the public circle pages, a member's own page and the coordinators' pages.

Every selector runs a fixed number of queries however many rows it returns, and the ones
for coordinators fetch and authorise together: they raise ``PermissionDenied`` for anyone who
is not the circle's coordinator, ``Http404`` for what is not in the circle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.circles.models import (
    Account,
    Circle,
    CircleCoordinator,
    CirclePartner,
    ContactPreference,
    Member,
    MembershipYear,
    MemberStatus,
    Payment,
    TokenBundle,
)
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.core.periods import year_after
from localsocial.directory.models import Organisation, normalise_postcode

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

MEMBER_LIST_ORDERING = ("display_name", "id")
# Members stay on the "to contact" list this long after their membership ended unrenewed.
CONTACT_AFTER_END_DAYS = 60


def circles_public_list() -> list[Circle]:
    """Circles open to new members, by name, with their area.  One query."""
    return list(Circle.objects.filter(is_active=True).select_related("area").order_by("name", "id"))


@dataclass
class CirclePage:
    circle: Circle
    bundles: list[TokenBundle]
    partners: list[CirclePartner]


def circle_get_public(*, slug: str) -> CirclePage:
    """A circle's public page: the circle, its bundles on sale and its partners.  Raises
    Http404 for an unknown circle.  Three queries."""
    circle = Circle.objects.select_related("area", "organisation").filter(slug=slug).first()
    if circle is None:
        raise Http404(_("There is no circle at this address."))
    bundles = list(circle.bundles.filter(is_active=True).order_by("quarters", "id"))
    partners = list(circle.partners.select_related("organisation").order_by("organisation__name", "id"))
    return CirclePage(circle=circle, bundles=bundles, partners=partners)


def circle_get(*, slug: str) -> Circle:
    """The circle at this address, or Http404.  One query."""
    circle = Circle.objects.filter(slug=slug).first()
    if circle is None:
        raise Http404(_("There is no circle at this address."))
    return circle


def may_coordinate(user: User | AnonymousUser, circle: Circle) -> bool:
    """``user`` may coordinate ``circle``: one of its coordinators or a site administrator
    (the ``circles.coordinate`` permission).  False for nobody and for visitors."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("circles.coordinate", circle))


def coordinator_required(user: User, circle: Circle) -> None:
    """PermissionDenied unless ``user`` may coordinate ``circle`` (``may_coordinate``)."""
    if not may_coordinate(user, circle):
        raise PermissionDenied(_("Only the circle's coordinators can do this."))


def member_has_email(member: Member) -> bool:
    """The member has a real email address (not a placeholder): email reaches them."""
    return not email_is_placeholder(member.user.email)


def member_prefers_phone(member: Member) -> bool:
    """A member we tell by phone: they asked for phone or post, or have no real email address."""
    return member.contact_preference != ContactPreference.EMAIL or email_is_placeholder(member.user.email)


def circle_get_for_coordinator(*, user: User, slug: str) -> Circle:
    """The circle, if ``user`` may coordinate it; Http404 for an unknown circle,
    PermissionDenied for anyone else."""
    circle = circle_get(slug=slug)
    if not user.has_perm("circles.coordinate", circle):
        raise PermissionDenied(_("Only the circle's coordinators can see this page."))
    return circle


def member_get_own(*, circle: Circle, user: User | AnonymousUser) -> Member | None:
    """``user``'s membership of ``circle`` (with the circle), or None.  One query."""
    if not user.is_authenticated:
        return None
    return Member.objects.select_related("circle", "user").filter(circle=circle, user=user).first()


@dataclass
class MembershipPage:
    member: Member
    years: list[MembershipYear]
    current_year: MembershipYear | None
    fee_year: MembershipYear | None  # the year the next fee pays for; None when all paid
    balance_quarters: int
    bundles: list[TokenBundle]
    payments: list[Payment] = field(default_factory=list)

    @property
    def current_paid(self) -> bool:
        return self.current_year is not None and self.current_year.payment_id is not None


def fee_year_next(*, member: Member) -> MembershipYear | None:
    """The membership year the next fee pays for: the year running today if it is unpaid;
    the year after it if it is paid (renewal); a year starting today if none runs today
    (a lapsed member coming back); None when the next year is paid already.  A year that
    does not exist yet comes unsaved (``services.payments.fee_year_for`` makes it)."""
    today = timezone.localdate()
    years = list(member.years.all())  # newest first (Meta.ordering)
    current = next((y for y in years if y.starts_on <= today < y.ends_on), None)
    if current is not None and current.payment_id is None:
        return current
    if current is not None:
        following = next((y for y in years if y.starts_on == current.ends_on), None)
        if following is not None:
            return following if following.payment_id is None else None
        starts = current.ends_on
    else:
        future = next((y for y in years if y.starts_on > today and y.payment_id is None), None)
        if future is not None:
            return future
        starts = today
    return MembershipYear(member=member, starts_on=starts, ends_on=year_after(starts),
                          fee_pence=member.circle.annual_fee_pence)


def membership_page(*, member: Member) -> MembershipPage:
    """A member's own page: their years, the fee due, balance, bundles on sale and their
    last payments.  Four queries."""
    years = list(member.years.all())
    member._prefetched_objects_cache = {"years": years}  # type: ignore[attr-defined]
    today = timezone.localdate()
    current = next((y for y in years if y.starts_on <= today < y.ends_on), None)
    account = Account.objects.filter(member=member).values_list("balance_quarters", flat=True).first()
    bundles = list(TokenBundle.objects.filter(circle_id=member.circle_id, is_active=True).order_by("quarters", "id"))
    payments = list(member.payments.select_related("bundle").order_by("-created_at", "-id")[:10])
    return MembershipPage(
        member=member, years=years, current_year=current, fee_year=fee_year_next(member=member),
        balance_quarters=account or 0, bundles=bundles, payments=payments,
    )


def _members_query(circle: Circle, *, query: str, status: str) -> QuerySet[Member]:
    today = timezone.localdate()
    paid_now = MembershipYear.objects.filter(
        member=OuterRef("pk"), starts_on__lte=today, ends_on__gt=today, payment__isnull=False
    )
    members = (
        Member.objects.filter(circle=circle)
        .select_related("account")
        .annotate(paid_now=Exists(paid_now))
    )
    query = " ".join(query.split())
    if query:
        members = members.filter(
            Q(display_name__icontains=query) | Q(postcode__icontains=query.upper())
            | Q(postcode__icontains=normalise_postcode(query))
        )
    if status in MemberStatus.values:
        members = members.filter(status=status)
    return members


def members_for_coordinator(
    *, circle: Circle, query: str = "", status: str = "", cursor: str | None = None, page_size: int = 20,
) -> KeysetPage[Member]:
    """One page of the circle's members by name, searched by name or postcode and filtered by
    status, each with whether this year is paid and their balance.  One query.  Raises
    ``InvalidCursorError`` for a cursor this list did not make."""
    return keyset_paginate(
        _members_query(circle, query=query, status=status), ordering=MEMBER_LIST_ORDERING, cursor=cursor,
        page_size=page_size,
    )


@dataclass
class MemberDetail:
    member: Member
    years: list[MembershipYear]
    payments: list[Payment]
    balance_quarters: int
    has_account: bool
    bundles: list[TokenBundle]
    current_year: MembershipYear | None


def member_get_for_coordinator(*, circle: Circle, member_id: int) -> MemberDetail:
    """One member of ``circle`` (Http404 for a member of another circle) with their years,
    payments, balance and the bundles on sale.  Five queries."""
    member = Member.objects.select_related("user", "circle", "entered_by").filter(circle=circle, pk=member_id).first()
    if member is None:
        raise Http404(_("There is no such member in this circle."))
    years = list(member.years.select_related("payment"))
    payments = list(member.payments.select_related("bundle", "recorded_by").order_by("-created_at", "-id")[:50])
    balance = Account.objects.filter(member=member).values_list("balance_quarters", flat=True).first()
    bundles = list(TokenBundle.objects.filter(circle=circle, is_active=True).order_by("quarters", "id"))
    today = timezone.localdate()
    return MemberDetail(
        member=member, years=years, payments=payments, balance_quarters=balance or 0, has_account=balance is not None,
        bundles=bundles, current_year=next((y for y in years if y.starts_on <= today < y.ends_on), None),
    )


def member_in_circle(*, circle: Circle, member_id: int) -> Member:
    """A member of ``circle`` with their user and circle, or Http404.  One query."""
    member = Member.objects.select_related("user", "circle").filter(circle=circle, pk=member_id).first()
    if member is None:
        raise Http404(_("There is no such member in this circle."))
    return member


@dataclass
class ToContact:
    member: Member
    ends_on: dt.date
    reason: str


def members_to_contact(*, circle: Circle, limit: int = 200) -> list[ToContact]:
    """Members whose renewal reminder could not go by email (they prefer phone or post, or have
    no email address) and who have not renewed yet: the coordinators phone or write to them.
    A member leaves the list when they pay for the next year.  One query."""
    later_year = MembershipYear.objects.filter(member=OuterRef("member"), starts_on__gte=OuterRef("ends_on"))
    years_renewal = (
        MembershipYear.objects.filter(
            member__circle=circle, reminder_sent_at__isnull=False,
            ends_on__gte=timezone.localdate() - dt.timedelta(days=CONTACT_AFTER_END_DAYS),
        )
        .exclude(member__status=MemberStatus.LEFT)
        .exclude(Exists(later_year))
        .select_related("member__user")
        .order_by("ends_on", "id")
    )
    rows = []
    for year in years_renewal[:limit]:
        member = year.member
        if member.contact_preference == ContactPreference.EMAIL and not email_is_placeholder(member.user.email):
            continue
        reasons: dict[str, str] = {
            ContactPreference.PHONE.value: _("Prefers phone"), ContactPreference.POST.value: _("Prefers post"),
        }
        reason = reasons.get(member.contact_preference, _("No email address"))
        rows.append(ToContact(member=member, ends_on=year.ends_on, reason=str(reason)))
    return rows


def coordinators_of(*, circle: Circle) -> list[CircleCoordinator]:
    """The circle's coordinators with their accounts, by name.  One query."""
    return list(circle.coordinators.select_related("user").order_by("user__display_name", "id"))


def coordinator_emails(*, circle_id: int) -> list[str]:
    """Where to email a circle's coordinators: the active ones' real addresses, sorted.  One
    query.  Every service that tells the coordinators something uses this list."""
    return [
        email for email in CircleCoordinator.objects.filter(circle_id=circle_id, user__is_active=True)
        .order_by("user__email").values_list("user__email", flat=True)
        if not email_is_placeholder(email)
    ]


def partner_choices(*, circle: Circle, query: str = "", limit: int = 50) -> list[Any]:
    """Organisations from the directory that are not partners yet, matching ``query``.
    One query."""
    taken = CirclePartner.objects.filter(circle=circle, organisation=OuterRef("pk"))
    organisations = Organisation.objects.exclude(Exists(taken))
    query = " ".join(query.split())
    if query:
        organisations = organisations.filter(name__icontains=query)
    return list(organisations.order_by("name", "id")[:limit])


def payment_get_by_reference(*, slug: str, reference: str) -> Payment:
    """A card payment by its provider reference, in the circle at ``slug``, with what it is
    for; Http404 otherwise.  One query."""
    payment = (
        Payment.objects.select_related("circle", "bundle", "member")
        .filter(circle__slug=slug, provider_reference=reference, method="card")
        .first()
    )
    if payment is None or not reference:
        raise Http404(_("There is no such payment."))
    return payment

