"""Reads about referrals: the coordinators' lists, the partner staff's page, one referral
fetched and authorised together, the organisations someone may refer for, and the figures
for reports.  Every function runs a fixed number of queries however many rows it returns.

A referral is visible to the circle's coordinators (and site administrators) and to the
staff of its partner organisation, any role, including the staff of an organisation above
it; to anyone else it does not exist (Http404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.circles.models import (
    OPEN_REFERRAL_STATUSES,
    Circle,
    CirclePartner,
    Member,
    Referral,
    ReferralDirection,
    ReferralStatus,
)
from localsocial.circles.selectors.membership import may_coordinate
from localsocial.directory.models import Organisation, OrganisationMembership

if TYPE_CHECKING:
    from localsocial.accounts.models import User

LIST_LIMIT = 200
RECENTLY_ENDED_LIMIT = 50


def may_act_for_partner(user: User, organisation: Organisation) -> bool:
    """``user`` is staff of the partner ``organisation`` or of one above it
    (``circles.act_for_partner``)."""
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("circles.act_for_partner", organisation))


def referral_statuses_for(user: User, referral: Referral) -> list[str]:
    """The statuses ``user`` may move ``referral`` to now (empty: none, or it has ended)."""
    if not referral.is_open:
        return []
    if referral.direction == ReferralDirection.IN:
        if may_coordinate(user, referral.circle):
            # Accepted means "joined": only joining them up (``referral_join``) sets it.
            return [ReferralStatus.CONTACTED, ReferralStatus.DECLINED, ReferralStatus.CLOSED]
        return []
    if may_act_for_partner(user, referral.partner):
        return [ReferralStatus.CONTACTED, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.CLOSED]
    if may_coordinate(user, referral.circle):
        return [ReferralStatus.CLOSED]
    return []



def _open() -> Q:
    return Q(status__in=[s.value for s in OPEN_REFERRAL_STATUSES])


def _with_parties(queryset: QuerySet[Referral]) -> QuerySet[Referral]:
    return queryset.select_related("circle", "partner", "member", "created_by")


@dataclass
class CoordinatorReferrals:
    incoming: list[Referral]  # open referrals to the circle, oldest first
    outgoing: list[Referral]  # open referrals from the circle, oldest first
    ended: list[Referral]  # the last referrals that ended, latest first
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # direction → status → how many

    def open_count(self, direction: str) -> int:
        return sum(self.counts.get(direction, {}).get(s.value, 0) for s in OPEN_REFERRAL_STATUSES)


def referrals_for_coordinator(*, circle: Circle) -> CoordinatorReferrals:
    """The circle's open referrals in and out (oldest first: they have waited longest), the
    latest that ended, and how many there are of each direction and status.  Four queries."""
    base = _with_parties(Referral.objects.filter(circle=circle))
    incoming = list(base.filter(_open(), direction=ReferralDirection.IN).order_by("created_at", "id")[:LIST_LIMIT])
    outgoing = list(base.filter(_open(), direction=ReferralDirection.OUT).order_by("created_at", "id")[:LIST_LIMIT])
    ended = list(base.exclude(_open()).order_by("-closed_at", "-id")[:RECENTLY_ENDED_LIMIT])
    counts: dict[str, dict[str, int]] = {}
    for row in Referral.objects.filter(circle=circle).values("direction", "status").annotate(n=Count("id")).order_by():
        counts.setdefault(row["direction"], {})[row["status"]] = row["n"]
    return CoordinatorReferrals(incoming=incoming, outgoing=outgoing, ended=ended, counts=counts)


def staff_organisations(*, user: User) -> list[Organisation]:
    """The organisations ``user`` works for (any role), by name.  One query."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return [
        m.organisation for m in
        OrganisationMembership.objects.filter(user=user).select_related("organisation").order_by("organisation__name", "id")
    ]


def _subtree(organisations: list[Organisation], prefix: str) -> Q:
    """Anything whose ``prefix`` organisation is one of these or below one of them."""
    condition = Q(pk__in=[])
    for org in organisations:
        condition |= Q(**{f"{prefix}path__startswith": org.path}) if org.path else Q(**{f"{prefix}pk": org.pk})
    return condition


@dataclass
class PartnerReferrals:
    organisations: list[Organisation]  # the organisations the person works for
    open: list[Referral]  # oldest first
    ended: list[Referral]  # latest first
    partnerships: list[CirclePartner]  # the circles they may refer people to, and for which organisation


def referrals_for_partner_staff(*, user: User) -> PartnerReferrals:
    """Every referral to or from the organisations ``user`` works for and those below them, in
    every circle: open ones oldest first, then the latest that ended; and the partnerships they
    may refer through.  Four queries (one for someone who works for no organisation)."""
    organisations = staff_organisations(user=user)
    if not organisations:
        return PartnerReferrals(organisations=[], open=[], ended=[], partnerships=[])
    mine = _with_parties(Referral.objects.filter(_subtree(organisations, "partner__")))
    return PartnerReferrals(
        organisations=organisations,
        open=list(mine.filter(_open()).order_by("created_at", "id")[:LIST_LIMIT]),
        ended=list(mine.exclude(_open()).order_by("-closed_at", "-id")[:RECENTLY_ENDED_LIMIT]),
        partnerships=list(
            CirclePartner.objects.filter(_subtree(organisations, "organisation__"))
            .select_related("circle", "organisation").order_by("circle__name", "organisation__name", "id")
        ),
    )


@dataclass
class ReferralPage:
    referral: Referral
    is_coordinator: bool
    is_partner_staff: bool
    statuses: list[str]  # what the person may move it to now
    can_join: bool  # a coordinator may join the person up from it
    possible_members: list[Member] = field(default_factory=list)  # members who may be the person referred


def referral_get_for_user(*, user: User, referral_id: int) -> ReferralPage:
    """One referral with its circle, partner and member, if ``user`` may see it (a coordinator
    of its circle, staff of its partner); Http404 for anyone else and for a referral that is
    not there.  A fixed number of queries (the permission checks are one each)."""
    referral = _with_parties(Referral.objects.filter(pk=referral_id)).first()
    if referral is None or not user.has_perm("circles.view_referral", referral):
        raise Http404(_("There is no such referral, or it is not one you can see."))
    is_coordinator = bool(user.has_perm("circles.coordinate", referral.circle))
    can_join = is_coordinator and referral.direction == ReferralDirection.IN and referral.is_open
    return ReferralPage(
        referral=referral, is_coordinator=is_coordinator,
        is_partner_staff=bool(user.has_perm("circles.act_for_partner", referral.partner)),
        statuses=[str(s) for s in referral_statuses_for(user, referral)],
        can_join=can_join, possible_members=referral_possible_members(referral=referral) if can_join else [],
    )


def referral_possible_members(*, referral: Referral, limit: int = 10) -> list[Member]:
    """Members of the referral's circle who may be the person referred (they joined by
    themselves): the same name, phone number or email address.  One query."""
    same = Q(display_name__iexact=referral.person_name.strip())
    digits = "".join(ch for ch in referral.person_phone if ch.isdigit())
    if len(digits) >= 6:
        same |= Q(phone=referral.person_phone) | Q(phone__endswith=digits[-6:])
    if referral.person_email:
        same |= Q(user__email__iexact=referral.person_email)
    return list(Member.objects.filter(same, circle_id=referral.circle_id).order_by("display_name", "id")[:limit])


def referral_partners_for_referrer(*, user: User, circle: Circle) -> list[Organisation]:
    """The circle's partner organisations ``user`` may refer people for: all of them for a
    coordinator, else those the user works for (or works for one above).  Two queries."""
    partners = CirclePartner.objects.filter(circle=circle).select_related("organisation")
    if not user.has_perm("circles.coordinate", circle):
        organisations = staff_organisations(user=user)
        if not organisations:
            return []
        partners = partners.filter(_subtree(organisations, "organisation__"))
    return [p.organisation for p in partners.order_by("organisation__name", "id")]


def referral_partners_of(*, circle: Circle) -> list[Organisation]:
    """The circle's partner organisations by name.  One query."""
    return [p.organisation for p in circle.partners.select_related("organisation").order_by("organisation__name", "id")]


@dataclass(frozen=True)
class ReferralCount:
    partner: str
    direction: str
    status: str
    count: int


def referral_counts(*, circle: Circle, start: dt.date, end: dt.date) -> list[ReferralCount]:
    """How many referrals the circle made and received from ``start`` to ``end`` (both days
    included, in the site's time zone), by partner, direction and status (what happened), by
    partner name.  One query."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = (
        Referral.objects.filter(circle=circle, created_at__gte=since, created_at__lt=until)
        .values("partner__name", "partner_id", "direction", "status")
        .annotate(n=Count("id"))
        .order_by("partner__name", "partner_id", "direction", "status")
    )
    return [ReferralCount(partner=r["partner__name"], direction=r["direction"], status=r["status"], count=r["n"])
            for r in rows]

