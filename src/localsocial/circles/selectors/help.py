"""Reads about help: the coordinator's matching queue and ranked candidates (with the reason
for each rank), a member's requests, a helper's offers and visits, and fetch-and-authorise
functions that raise ``Http404`` for anyone who may not see the record (a coordinator of
another circle included: nobody learns what exists elsewhere).

How candidates are ranked (points, highest first; see docs/circles-help.md):

* skill: 30 if the helper gives this kind of help;
* distance: 10 to 20 within the helper's travel radius (nearer is more), 0 beyond it, 15 for
  the same postcode district when there are no coordinates, 5 when it is not known;
* availability: 20 if a free time covers the whole visit, 10 if one overlaps it on that day,
  5 if the helper has not said when they are free, 0 otherwise;
* vetting: 10 if vetted on the day; for help in the member's home an unvetted helper is not
  eligible at all (listed last, with why);
* past feedback: members' average rating, from -10 (1 out of 5) to +10 (5 out of 5);
* workload: -5 for each other visit within three days of this one, down to -15;
* offer: 15 if the member asked for help from this helper's offer.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Avg, Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.circles.models import (
    LIVE_MATCH_STATUSES,
    Circle,
    DbsStatus,
    FeedbackSide,
    Helper,
    HelperKind,
    HelpRequest,
    Match,
    MatchStatus,
    Member,
    Offer,
    RequestStatus,
    Visit,
    VisitFeedback,
)

if TYPE_CHECKING:
    from localsocial.accounts.models import User

WORKLOAD_WINDOW = dt.timedelta(days=3)
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class Factor:
    """One part of a candidate's rank: its name, its points and why, in plain words."""

    name: str
    points: int
    reason: str


@dataclass
class Candidate:
    helper: Helper
    factors: list[Factor] = field(default_factory=list)
    eligible: bool = True
    blocked: str = ""  # why the helper cannot be offered this request
    match_status: str = ""  # the helper's earlier answer about this request, if any

    @property
    def points(self) -> int:
        return sum(f.points for f in self.factors)

    @property
    def reason(self) -> str:
        """The rank explained in one sentence, e.g. "Does gardening; 1.2 km away, …"."""
        text = "; ".join(f.reason for f in self.factors)
        return text[:1].upper() + text[1:] + "." if text else ""


def helper_vetting_problems(helper: Helper, *, on: dt.date) -> list[str]:
    """What stops ``helper`` from being sent into someone's home on the day ``on``, in plain
    words; an empty list when nothing does."""
    problems: list[str] = []
    if not helper.is_active:
        problems.append(_("is not an active helper"))
    if helper.dbs_status != DbsStatus.CLEAR:
        problems.append(_("has no clear DBS check"))
    elif helper.dbs_expires_on is None:
        problems.append(_("has no DBS expiry date"))
    elif helper.dbs_expires_on <= on:
        # Conservative: a check is not relied on for the day it expires.
        problems.append(_("DBS check expires on %(date)s, by the day of the visit")
                        % {"date": helper.dbs_expires_on.strftime("%d/%m/%Y")})
    elif helper.dbs_checked_on is not None and helper.dbs_checked_on > on:
        problems.append(_("DBS check is dated after the visit"))
    if not helper.references_checked:
        problems.append(_("references not checked"))
    if helper.training_completed_on is None or helper.training_completed_on > on:
        problems.append(_("induction training not done"))
    return problems



def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); close enough for "how far away" in a town."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _district(postcode: str) -> str:
    """The outward part of a UK postcode ("SE1 7PB" -> "SE1"), upper case; "" if none."""
    parts = postcode.upper().split()
    if len(parts) == 2:
        return parts[0]
    compact = postcode.upper().replace(" ", "")
    return compact[:-3] if len(compact) > 4 else ""


def _distance_factor(helper: Helper, help_request: HelpRequest) -> Factor:
    if help_request.place == "remote":
        return Factor("distance", 20, _("by phone or video, so distance does not matter"))
    radius = float(helper.travel_radius_km)
    if None not in (helper.latitude, helper.longitude, help_request.latitude, help_request.longitude):
        km = _distance_km(helper.latitude, helper.longitude, help_request.latitude, help_request.longitude)  # type: ignore[arg-type]
        if km <= radius:
            points = 20 - round(10 * km / radius) if radius else 20
            return Factor("distance", points, _("%(km).1f km away, within the %(radius)s km they travel")
                          % {"km": km, "radius": helper.travel_radius_km})
        return Factor("distance", 0, _("%(km).1f km away, further than the %(radius)s km they travel")
                      % {"km": km, "radius": helper.travel_radius_km})
    mine, theirs = _district(helper.postcode), _district(help_request.postcode)
    if mine and mine == theirs:
        return Factor("distance", 15, _("lives in the same postcode district (%(district)s)") % {"district": mine})
    return Factor("distance", 5, _("distance not known"))


def _availability_factor(helper: Helper, help_request: HelpRequest) -> Factor:
    slots = list(helper.availability.all())
    if not slots:
        return Factor("availability", 5, _("has not said when they are free"))
    start = timezone.localtime(help_request.starts_at)
    end = start + dt.timedelta(minutes=15 * help_request.estimated_quarters)
    day = [s for s in slots if s.weekday == start.weekday()]
    start_t = start.time()
    end_t = end.time() if end.date() == start.date() else dt.time.max
    if any(s.starts <= start_t and end_t <= s.ends for s in day):
        return Factor("availability", 20, _("usually free at that time"))
    if any(s.starts < end_t and start_t < s.ends for s in day):
        return Factor("availability", 10, _("free for part of that time"))
    return Factor("availability", 0, _("not usually free then"))


def _feedback_factor(average: float | None, count: int) -> Factor:
    if not count or average is None:
        return Factor("feedback", 0, _("no feedback from members yet"))
    points = round((average - 3) * 5)
    return Factor("feedback", points, _("members rated their help %(average).1f out of 5 (%(count)s visits)")
                  % {"average": average, "count": count})


def _workload_factor(count: int) -> Factor:
    if not count:
        return Factor("workload", 0, _("no other visits that week"))
    return Factor("workload", -min(15, 5 * count), _("%(count)s other visits within three days") % {"count": count})


def helpers_rank_for_request(*, help_request: HelpRequest, helper_ids: list[int] | None = None) -> list[Candidate]:
    """Every active helper of the request's circle (or those of ``helper_ids``) ranked for
    ``help_request``: eligible ones first, most points first, then by name.  Each candidate has
    its per-factor points and a plain-English reason.  A fixed number of queries."""
    circle_id = help_request.circle_id
    helpers_qs = (
        Helper.objects.filter(circle_id=circle_id, is_active=True)
        .select_related("user")
        .prefetch_related("skills", "availability")
    )
    if helper_ids is not None:
        helpers_qs = helpers_qs.filter(pk__in=helper_ids)
    helpers = list(helpers_qs)
    ids = [h.pk for h in helpers]
    feedback = {
        row["visit__helper"]: row
        for row in VisitFeedback.objects.filter(side=FeedbackSide.MEMBER, visit__helper__in=ids)
        .values("visit__helper").annotate(average=Avg("rating"), count=Count("id"))
    }
    workload = dict(
        Visit.objects.filter(
            helper__in=ids, completed_at__isnull=True,
            planned_start__gte=help_request.starts_at - WORKLOAD_WINDOW,
            planned_start__lte=help_request.starts_at + WORKLOAD_WINDOW,
        ).exclude(request=help_request).values("helper").annotate(count=Count("id")).values_list("helper", "count")
    )
    earlier = dict(Match.objects.filter(request=help_request).values_list("helper_id", "status"))
    offer_helper_id = (
        Offer.objects.filter(pk=help_request.offer_id).values_list("helper_id", flat=True).first()
        if help_request.offer_id else None
    )
    day = timezone.localtime(help_request.starts_at).date()
    member_user_id = Member.objects.filter(pk=help_request.member_id).values_list("user_id", flat=True).first()
    category_label = help_request.get_category_display()
    candidates = []
    for helper in helpers:
        candidate = Candidate(helper=helper, match_status=earlier.get(helper.pk, ""))
        skills = {s.category for s in helper.skills.all()}
        if help_request.category in skills:
            candidate.factors.append(Factor("skill", 30, _("gives help with “%(category)s”") % {"category": category_label}))
        else:
            candidate.factors.append(Factor("skill", 0, _("has not said they help with “%(category)s”")
                                            % {"category": category_label}))
        candidate.factors.append(_distance_factor(helper, help_request))
        candidate.factors.append(_availability_factor(helper, help_request))
        problems = helper_vetting_problems(helper, on=day)
        if not problems:
            candidate.factors.append(Factor("vetting", 10, _("vetted for home visits")))
        elif help_request.is_home_visit:
            candidate.eligible = False
            candidate.blocked = _("Cannot be sent to a home visit: %(problems)s.") % {"problems": "; ".join(problems)}
            candidate.factors.append(Factor("vetting", 0, _("not vetted for home visits")))
        else:
            candidate.factors.append(Factor("vetting", 0, _("not vetted for home visits (this help is not in the home)")))
        row = feedback.get(helper.pk)
        candidate.factors.append(_feedback_factor(row["average"] if row else None, row["count"] if row else 0))
        candidate.factors.append(_workload_factor(workload.get(helper.pk, 0)))
        if offer_helper_id == helper.pk:
            candidate.factors.append(Factor("offer", 15, _("the member asked for help from their offer")))
        if helper.user_id == member_user_id:
            candidate.eligible = False
            candidate.blocked = _("This is the member who asked for help.")
        elif candidate.match_status:
            candidate.eligible = False
            answers: dict[str, str] = {
                MatchStatus.OFFERED.value: _("Already offered this request; waiting for their answer."),
                MatchStatus.ACCEPTED.value: _("Accepted this request."),
                MatchStatus.DECLINED.value: _("Declined this request."),
                MatchStatus.WITHDRAWN.value: _("Was offered this request before; the offer was withdrawn."),
            }
            candidate.blocked = answers.get(candidate.match_status, "")
        candidates.append(candidate)
    candidates.sort(key=lambda c: (not c.eligible, -c.points, c.helper.display_name.casefold(), c.helper.pk))
    return candidates


def helper_candidate_for_request(*, help_request: HelpRequest, helper: Helper) -> Candidate:
    """One helper's rank for a request (what ``match_propose`` records with the match)."""
    ranked = helpers_rank_for_request(help_request=help_request, helper_ids=[helper.pk])
    return ranked[0] if ranked else Candidate(helper=helper, eligible=False)


# --- Fetch and authorise -------------------------------------------------------------------------

def _user_id(user: User) -> int:
    """The signed-in user's id; -1 (nobody's) for anyone else, so that filters match nothing."""
    return int(user.pk) if getattr(user, "is_authenticated", False) else -1


def circle_get_for_coordinator(*, user: User, slug: str) -> Circle:
    """The circle ``user`` coordinates (or any, for a site administrator); else ``Http404``."""
    circle = Circle.objects.filter(slug=slug).first()
    if circle is None or not getattr(user, "is_authenticated", False) or not user.has_perm("circles.coordinate", circle):
        raise Http404
    return circle


def member_get_for_user(*, user: User, slug: str) -> Member:
    """``user``'s active membership of the circle ``slug``; else ``Http404``."""
    member = (
        Member.objects.filter(circle__slug=slug, user_id=_user_id(user), status="active")
        .select_related("circle").first()
    )
    if member is None:
        raise Http404
    return member


def member_get_for_coordinator(*, circle: Circle, member_id: int) -> Member:
    member = Member.objects.filter(circle=circle, pk=member_id).select_related("circle", "user").first()
    if member is None:
        raise Http404
    return member


def helper_get_for_user(*, user: User, slug: str) -> Helper:
    helper = Helper.objects.filter(circle__slug=slug, user_id=_user_id(user), is_active=True).select_related("circle").first()
    if helper is None:
        raise Http404
    return helper


def helper_get_in_circle(*, circle: Circle, helper_id: int) -> Helper | None:
    """A helper of ``circle`` by id, or None (never one of another circle)."""
    if helper_id > 2**31:
        return None
    return Helper.objects.filter(circle=circle, pk=helper_id).select_related("user", "circle").first()


def helper_get_for_profile(*, user: User, slug: str, helper_id: int | None = None) -> Helper:
    """The helper whose skills and free times are shown: ``user``'s own in the circle, or
    (with ``helper_id``) any helper of a circle ``user`` coordinates; else ``Http404``."""
    if helper_id is None:
        helpers = Helper.objects.filter(circle__slug=slug, user_id=_user_id(user))
    else:
        circle = circle_get_for_coordinator(user=user, slug=slug)
        helpers = Helper.objects.filter(circle=circle, pk=helper_id)
    helper = helpers.select_related("circle", "member").prefetch_related("skills", "availability").first()
    if helper is None:
        raise Http404
    return helper


def help_request_get_for_coordinator(*, circle: Circle, request_id: int) -> HelpRequest:
    help_request = (
        HelpRequest.objects.filter(circle=circle, pk=request_id)
        .select_related("circle", "member", "offer__helper").first()
    )
    if help_request is None:
        raise Http404
    return help_request


def help_request_get_for_member(*, user: User, request_id: int) -> HelpRequest:
    help_request = HelpRequest.objects.filter(pk=request_id, member__user_id=_user_id(user)).select_related(
        "circle", "member"
    ).first()
    if help_request is None:
        raise Http404
    return help_request


def match_get_for_helper(*, user: User, match_id: int) -> Match:
    match = Match.objects.filter(pk=match_id, helper__user_id=_user_id(user)).select_related(
        "request__circle", "helper"
    ).first()
    if match is None:
        raise Http404
    return match


def match_get_for_coordinator(*, circle: Circle, match_id: int) -> Match:
    match = Match.objects.filter(pk=match_id, request__circle=circle).select_related("request", "helper").first()
    if match is None:
        raise Http404
    return match


@dataclass(frozen=True)
class VisitAccess:
    visit: Visit
    is_member: bool
    is_helper: bool
    is_coordinator: bool


def visit_get_for_user(*, user: User, visit_id: int) -> VisitAccess:
    """A visit with what ``user`` is to it (its member, its helper, a coordinator of its
    circle); ``Http404`` for anyone else."""
    visit = (
        Visit.objects.filter(pk=visit_id)
        .select_related("circle", "helper", "request__member", "transfer")
        .prefetch_related("feedback")
        .first()
    )
    uid = _user_id(user)
    if visit is None or uid < 0:
        raise Http404
    is_member = visit.request.member.user_id == uid
    is_helper = visit.helper.user_id == uid
    is_coordinator = bool(user.has_perm("circles.coordinate", visit.circle))
    if not (is_member or is_helper or is_coordinator):
        raise Http404
    return VisitAccess(visit=visit, is_member=is_member, is_helper=is_helper, is_coordinator=is_coordinator)


# --- Lists ---------------------------------------------------------------------------------------

def help_queue_for_circle(*, circle: Circle) -> list[HelpRequest]:
    """Requests waiting for a helper or for a helper's answer, soonest first (at most
    ``QUEUE_LIMIT``), each with its live match (``live_matches``)."""
    return list(
        HelpRequest.objects.filter(circle=circle, status__in=[RequestStatus.OPEN, RequestStatus.OFFERED])
        .select_related("member", "offer__helper")
        .prefetch_related(
            Prefetch("matches", queryset=Match.objects.filter(status__in=LIVE_MATCH_STATUSES).select_related("helper"),
                     to_attr="live_matches")
        )
        .order_by("starts_at", "pk")[:QUEUE_LIMIT]
    )


def visits_for_circle(*, circle: Circle, limit: int = 100) -> list[Visit]:
    """The circle's visits that need a coordinator's eye: not complete, or tokens owed."""
    return list(
        Visit.objects.filter(circle=circle)
        .filter(Q(completed_at__isnull=True) | Q(payment="owed"))
        .select_related("helper", "request__member")
        .order_by("planned_start", "pk")[:limit]
    )


def help_requests_for_user(*, user: User, limit: int = 100) -> list[HelpRequest]:
    """The signed-in member's requests in every circle, newest first, with their visits."""
    return list(
        HelpRequest.objects.filter(member__user_id=_user_id(user))
        .select_related("circle", "visit__helper")
        .order_by("-starts_at", "-pk")[:limit]
    )


def memberships_for_user(*, user: User) -> list[Member]:
    return list(Member.objects.filter(user_id=_user_id(user), status="active").select_related("circle"))


def helper_roles_for_user(*, user: User) -> list[Helper]:
    return list(Helper.objects.filter(user_id=_user_id(user), is_active=True).select_related("circle"))


def matches_waiting_for_helper(*, user: User) -> list[Match]:
    return list(
        Match.objects.filter(helper__user_id=_user_id(user), status=MatchStatus.OFFERED)
        .select_related("request__circle", "request__member")
        .order_by("request__starts_at", "pk")
    )


def visits_for_helper(*, user: User, limit: int = 100) -> list[Visit]:
    """The signed-in helper's visits: ones to come and not yet complete first, then the rest."""
    return list(
        Visit.objects.filter(helper__user_id=_user_id(user))
        .select_related("circle", "request__member")
        .order_by("completed_at", "planned_start", "pk")[:limit]
    )


@dataclass(frozen=True)
class OffersAccess:
    circle: Circle
    member: Member | None  # the person's active membership of the circle: they may ask from an offer
    helper: Helper | None  # their active helper role in it: they may add an offer


def circle_get_for_offers(*, user: User, slug: str) -> OffersAccess:
    """The circle whose offers ``user`` may see — the ``circles.view_offers`` rule, which the
    API checks too: its active members and helpers, its coordinators and site administrators
    — with their membership and helper role in it; Http404 for anyone else.  At most six
    queries."""
    circle = Circle.objects.filter(slug=slug).first()
    if circle is None or not getattr(user, "is_authenticated", False) or not user.has_perm("circles.view_offers", circle):
        raise Http404
    member = Member.objects.filter(circle=circle, user_id=_user_id(user), status="active").select_related("circle").first()
    helper = Helper.objects.filter(circle=circle, user_id=_user_id(user), is_active=True).select_related("circle").first()
    return OffersAccess(circle=circle, member=member, helper=helper)


def offers_for_circle(*, circle: Circle) -> list[Offer]:
    return list(
        Offer.objects.filter(circle=circle, is_active=True, helper__is_active=True)
        .select_related("helper").order_by("category", "title", "pk")
    )


def offer_get_listed(*, circle: Circle, offer_id: int) -> Offer:
    offer = Offer.objects.filter(circle=circle, pk=offer_id, is_active=True, helper__is_active=True).select_related(
        "helper"
    ).first()
    if offer is None:
        raise Http404
    return offer


def helpers_became_from_members(*, circle: Circle) -> dict[str, int]:
    """For reports: how many helpers the circle has of each kind, and how many were members first."""
    counts = dict(
        Helper.objects.filter(circle=circle, is_active=True).values("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    return {
        "volunteer": counts.get(HelperKind.VOLUNTEER, 0), "paid": counts.get(HelperKind.PAID, 0),
        "member": counts.get(HelperKind.MEMBER, 0),
        "members_became_helpers": circle.helper_transitions.count(),
    }


@dataclass(frozen=True)
class HelperRow:
    helper: Helper
    vetting_problems: list[str]


def helpers_for_circle(*, circle: Circle, limit: int = 200) -> list[HelperRow]:
    """The circle's active helpers by name, each with what stops them helping in homes today."""
    today = timezone.localdate()
    return [
        HelperRow(helper=h, vetting_problems=helper_vetting_problems(h, on=today))
        for h in Helper.objects.filter(circle=circle, is_active=True).order_by("display_name", "pk")[:limit]
    ]
