"""Help: requests, offers, matching and visits.  Every write about help goes through here.

Who may do what (checked here as well as in the views):

* a member posts their own requests; a coordinator of the member's circle may post one for
  them (assisted use, recorded with ``on_behalf_of``) once the member's consent is recorded;
* a coordinator offers a request to a helper of the same circle; a helper who is not vetted
  on the day of a home visit is refused (``helper_is_vetted_for_home_visits``), here and again
  when the helper accepts and when they check in;
* the helper checks in and out; the member and the helper each confirm the visit, or a
  coordinator does; on completion the member's tokens pay for it, once.

Tokens for a visit (see docs/circles-help.md): the time from check-in to check-out rounded to
the nearest quarter hour (a half rounds up), at least one quarter and at most twice the
estimate; the estimate when the visit has no check-in and check-out times.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.accounts.models import User
from localsocial.api.webhooks import webhook_event_queue
from localsocial.circles.models import (
    Circle,
    FeedbackSide,
    HelpCategory,
    Helper,
    HelperKind,
    HelpPlace,
    HelpRequest,
    IncidentReport,
    Match,
    MatchStatus,
    Member,
    MemberStatus,
    Offer,
    RequestStatus,
    Visit,
    VisitFeedback,
    VisitPayment,
)
from localsocial.circles.selectors.help import helper_candidate_for_request, helper_vetting_problems
from localsocial.circles.selectors.membership import (
    coordinator_emails,
    coordinator_required,
    may_coordinate,
)
from localsocial.circles.services import ledger
from localsocial.core.email import email_send, site_url
from localsocial.core.services import audit_record
from localsocial.directory.selectors import postcode_locate

MAX_ESTIMATED_QUARTERS = 8 * 4  # a day's help at most in one request
DESCRIPTION_MAX = 2000
EARLIEST_CHECK_IN = dt.timedelta(hours=2)  # before the planned start


class HelpError(ValidationError):
    """Something about help that cannot be done; the message says why in plain words."""


def _link(name: str, **kwargs: Any) -> str:
    return site_url(reverse(f"circles:{name}", kwargs=kwargs))


def _tell_coordinators(circle: Circle, *, subject: Any, template: str, context: dict[str, Any]) -> None:
    emails = coordinator_emails(circle_id=circle.pk)
    if emails:
        email_send(to=emails, subject=subject, template=template, context={"circle": circle, **context})


def _webhook_on_commit(event: str, visit_id: int) -> None:
    """Tell the running organisation's webhooks (circles.webhooks, through the platform's
    api.webhooks.webhook_event_queue) once the transaction commits; nothing is sent for a
    change that is rolled back."""

    transaction.on_commit(lambda: webhook_event_queue(event=event, subject_id=visit_id))


def help_visit_date(*, help_request: HelpRequest) -> dt.date:
    """The day of the help, in the site's time zone (the day vetting must hold on)."""
    return timezone.localtime(help_request.starts_at).date()


def _home_visit_refusal(helper: Helper, help_request: HelpRequest) -> str | None:
    if not help_request.is_home_visit:
        return None
    problems = helper_vetting_problems(helper, on=help_visit_date(help_request=help_request))
    if not problems:
        return None
    return _("%(name)s cannot be sent to a home visit: %(problems)s.") % {
        "name": helper.display_name, "problems": "; ".join(problems),
    }


# --- Requests ----------------------------------------------------------------------------------

@transaction.atomic
def help_request_create(
    *,
    member: Member,
    actor: User,
    category: str,
    description: str,
    starts_at: dt.datetime,
    estimated_quarters: int,
    place: str,
    idempotency_key: str,
    place_details: str = "",
    when_note: str = "",
    offer: Offer | None = None,
) -> HelpRequest:
    """Post a request for help for ``member``, by the member or by a coordinator of their circle
    for them (then ``on_behalf_of`` is the member and their consent must be on record).
    Idempotent: the same ``idempotency_key`` returns the request already posted.  Raises
    ``PermissionDenied`` for anyone else, ``ValidationError`` (by field) for bad input."""
    circle = member.circle
    if actor is not None and actor.pk == member.user_id:
        on_behalf_of = None
    elif may_coordinate(actor, circle):
        on_behalf_of = member.user
    else:
        raise PermissionDenied
    key = (idempotency_key or "").strip()[:100]
    if not key:
        raise ValidationError(_("The form was incomplete. Please try again."))
    existing = HelpRequest.objects.filter(circle=circle, idempotency_key=key).first()
    if existing is not None:
        if existing.member_id != member.pk:
            raise ValidationError(_("The form was incomplete. Please try again."))
        return existing
    errors: dict[str, list[str]] = {}
    if on_behalf_of is not None and member.consent_given_at is None:
        errors.setdefault("__all__", []).append(
            _("Record the member's consent to a coordinator acting for them before asking for help for them.")
        )
    if member.status != MemberStatus.ACTIVE:
        errors.setdefault("__all__", []).append(_("Only an active member can ask for help."))
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Say what you need help with")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Say what you need help with in %(max)s characters or fewer") % {"max": DESCRIPTION_MAX}]
    if starts_at <= timezone.now():
        errors["starts_at"] = [_("The time must be in the future")]
    if not 1 <= estimated_quarters <= MAX_ESTIMATED_QUARTERS:
        errors["estimated_quarters"] = [_("Choose how long it should take, up to 8 hours")]
    if offer is not None:
        if offer.circle_id != circle.pk or not offer.is_active:
            errors.setdefault("__all__", []).append(_("This offer is no longer listed."))
        else:
            category = offer.category
    if place not in HelpPlace.values:
        errors["place"] = [_("Choose where the help is needed")]
    if category not in HelpCategory.values:
        errors["category"] = [_("Choose the kind of help")]
    if errors:
        raise ValidationError(errors)
    place_details = (place_details or "").strip()[:300]
    if place == HelpPlace.HOME and not place_details:
        place_details = (member.postal_address or "").strip()[:300]
    postcode = member.postcode if place == HelpPlace.HOME else ""
    # Where the help is, for matching by distance; unknown (None) when the postcode is not in the
    # loaded postcode data, and matching then compares postcode districts.
    latitude, longitude = postcode_locate(postcode) or (None, None)
    try:
        with transaction.atomic():
            help_request = HelpRequest.objects.create(
                circle=circle, member=member, category=category, description=description, starts_at=starts_at,
                when_note=(when_note or "").strip()[:200], estimated_quarters=estimated_quarters, place=place,
                place_details=place_details, postcode=postcode, latitude=latitude, longitude=longitude,
                offer=offer, idempotency_key=key, created_by=actor, on_behalf_of=on_behalf_of,
            )
    except IntegrityError:
        # The same form sent twice at once: the first one made it.
        return HelpRequest.objects.get(circle=circle, idempotency_key=key)
    audit_record(
        actor=actor, action="circles.help_request_create", target=help_request,
        after={"category": category, "place": place, "starts_at": starts_at, "offer": offer},
        on_behalf_of=on_behalf_of,
    )
    _tell_coordinators(
        circle, subject=gettext_lazy("New request for help"), template="circles/help/email/request_new.txt",
        context={"help_request": help_request, "member": member,
                 "link": _link("help_candidates", slug=circle.slug, pk=help_request.pk)},
    )
    return help_request


@transaction.atomic
def help_request_cancel(*, help_request: HelpRequest, actor: User) -> HelpRequest:
    """Cancel a request that has no helper yet (open or offered), by the member or a
    coordinator; an offer waiting for an answer is withdrawn.  Cancelling twice is harmless."""
    locked = HelpRequest.objects.select_for_update(of=("self",)).select_related("member", "circle").get(pk=help_request.pk)
    is_member = actor.pk == locked.member.user_id
    if not is_member and not may_coordinate(actor, locked.circle):
        raise PermissionDenied
    if locked.status == RequestStatus.CANCELLED:
        return locked
    if locked.status not in (RequestStatus.OPEN, RequestStatus.OFFERED):
        raise ValidationError(_("This request already has a helper: ask a coordinator to cancel the visit."))
    Match.objects.filter(request=locked, status=MatchStatus.OFFERED).update(status=MatchStatus.WITHDRAWN)
    locked.status = RequestStatus.CANCELLED
    locked.save(update_fields=["status"])
    audit_record(actor=actor, action="circles.help_request_cancel", target=locked,
                 on_behalf_of=None if is_member else locked.member.user)
    return locked


# --- Offers ------------------------------------------------------------------------------------

@transaction.atomic
def offer_create(
    *, helper: Helper, actor: User, category: str, title: str, place: str, description: str = ""
) -> Offer:
    """List something ``helper`` can do, by the helper or a coordinator of their circle."""
    if actor.pk != helper.user_id and not may_coordinate(actor, helper.circle):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Say what you offer")]
    if category not in HelpCategory.values:
        errors["category"] = [_("Choose the kind of help")]
    if place not in HelpPlace.values:
        errors["place"] = [_("Choose where you give this help")]
    if not helper.is_active:
        errors["__all__"] = [_("Only an active helper can offer help.")]
    if errors:
        raise ValidationError(errors)
    offer = Offer.objects.create(
        circle_id=helper.circle_id, helper=helper, category=category, title=title[:120],
        description=(description or "").strip()[:DESCRIPTION_MAX], place=place,
    )
    audit_record(actor=actor, action="circles.offer_create", target=offer, after={"title": offer.title})
    return offer


@transaction.atomic
def offer_set_listed(*, offer: Offer, actor: User, listed: bool) -> Offer:
    """Take an offer off the list, or put it back, by its helper or a coordinator."""
    if actor.pk != offer.helper.user_id and not may_coordinate(actor, offer.circle):
        raise PermissionDenied
    Offer.objects.filter(pk=offer.pk).update(is_active=listed)
    offer.is_active = listed
    audit_record(actor=actor, action="circles.offer_set_listed", target=offer, after={"listed": listed})
    return offer


# --- Matching ----------------------------------------------------------------------------------

@transaction.atomic
def match_propose(*, help_request: HelpRequest, helper: Helper, actor: User) -> Match:
    """A coordinator offers ``help_request`` to ``helper``.  Refused unless the helper is an
    active helper of the same circle, is not the member, and, for help in the member's home,
    is vetted on the day of the visit.  Offering the same request to the same helper again
    returns the match already made."""
    locked = HelpRequest.objects.select_for_update(of=("self",)).select_related("circle", "member").get(pk=help_request.pk)
    coordinator_required(actor, locked.circle)
    if helper.circle_id != locked.circle_id:
        # A coordinator of one circle cannot reach another's helpers, even by guessing an id.
        raise PermissionDenied
    same = Match.objects.filter(request=locked, helper=helper).first()
    if same is not None and same.status == MatchStatus.OFFERED:
        return same
    if same is not None:
        raise ValidationError(_("%(name)s has already been asked about this request.") % {"name": helper.display_name})
    if locked.status != RequestStatus.OPEN:
        raise ValidationError(_("This request is not waiting for a helper."))
    if not helper.is_active:
        raise ValidationError(_("%(name)s is not an active helper.") % {"name": helper.display_name})
    if helper.user_id == locked.member.user_id:
        raise ValidationError(_("A member cannot be matched to their own request."))
    refusal = _home_visit_refusal(helper, locked)
    if refusal:
        raise ValidationError(refusal)
    candidate = helper_candidate_for_request(help_request=locked, helper=helper)
    try:
        with transaction.atomic():
            match = Match.objects.create(
                request=locked, helper=helper, proposed_by=actor, score=candidate.points, reason=candidate.reason,
            )
    except IntegrityError as error:
        raise ValidationError(_("This request has just been offered to someone else.")) from error
    locked.status = RequestStatus.OFFERED
    locked.save(update_fields=["status"])
    audit_record(actor=actor, action="circles.match_propose", target=match,
                 after={"helper": helper.pk, "score": candidate.points})
    if helper.user.email:
        email_send(
            to=helper.user.email, subject=_("Can you help?"), template="circles/help/email/match_offered.txt",
            context={"helper": helper, "help_request": locked, "link": _link("help_visits")},
        )
    return match


@transaction.atomic
def match_withdraw(*, match: Match, actor: User) -> Match:
    """A coordinator takes back an offer the helper has not answered; the request is open again."""
    locked = Match.objects.select_for_update(of=("self",)).select_related("request__circle").get(pk=match.pk)
    coordinator_required(actor, locked.request.circle)
    if locked.status == MatchStatus.WITHDRAWN:
        return locked
    if locked.status != MatchStatus.OFFERED:
        raise ValidationError(_("Only an offer the helper has not answered can be withdrawn."))
    locked.status = MatchStatus.WITHDRAWN
    locked.save(update_fields=["status"])
    HelpRequest.objects.filter(pk=locked.request_id, status=RequestStatus.OFFERED).update(status=RequestStatus.OPEN)
    audit_record(actor=actor, action="circles.match_withdraw", target=locked)
    return locked


@transaction.atomic
def match_respond(
    *, match: Match, actor: User, accept: bool, decline_reason: str = ""
) -> Visit | None:
    """The helper accepts (a visit is arranged; returned) or declines (the request is open
    again; None).  A home visit is accepted only if the helper is vetted on its day.  Answering
    the same way twice is harmless."""
    locked = Match.objects.select_for_update(of=("self",)).select_related("request__circle", "request__member", "helper").get(
        pk=match.pk
    )
    helper = locked.helper
    if actor.pk != helper.user_id:
        raise PermissionDenied
    help_request = locked.request
    if locked.status == MatchStatus.ACCEPTED and accept:
        return Visit.objects.get(match=locked)
    if locked.status == MatchStatus.DECLINED and not accept:
        return None
    if locked.status != MatchStatus.OFFERED:
        raise ValidationError(_("This request is no longer offered to you."))
    now = timezone.now()
    if accept:
        refusal = _home_visit_refusal(helper, help_request)
        if refusal:
            raise ValidationError(
                _("You cannot accept a visit in someone's home until your checks are up to date. Please contact a coordinator.")
            )
        locked.status = MatchStatus.ACCEPTED
        locked.responded_at = now
        locked.save(update_fields=["status", "responded_at"])
        visit = Visit.objects.create(
            circle_id=help_request.circle_id, request=help_request, match=locked, helper=helper,
            planned_start=help_request.starts_at,
            planned_end=help_request.starts_at + dt.timedelta(minutes=15 * help_request.estimated_quarters),
        )
        help_request.status = RequestStatus.ARRANGED
        help_request.save(update_fields=["status"])
        _webhook_on_commit("request.matched", visit.pk)
    else:
        visit = None
        locked.status = MatchStatus.DECLINED
        locked.responded_at = now
        locked.decline_reason = (decline_reason or "").strip()[:300]
        locked.save(update_fields=["status", "responded_at", "decline_reason"])
        help_request.status = RequestStatus.OPEN
        help_request.save(update_fields=["status"])
    audit_record(actor=actor, action="circles.match_accept" if accept else "circles.match_decline", target=locked,
                 after={"reason": locked.decline_reason})
    _tell_coordinators(
        help_request.circle,
        subject=gettext_lazy("A helper accepted a request") if accept else gettext_lazy("A helper declined a request"),
        template="circles/help/email/match_answered.txt",
        context={"match": locked, "help_request": help_request, "accepted": accept,
                 "link": _link("help_candidates", slug=help_request.circle.slug, pk=help_request.pk)},
    )
    return visit


# --- Visits ------------------------------------------------------------------------------------

def _visit_locked(visit: Visit) -> Visit:
    return Visit.objects.select_for_update(of=("self",)).select_related(
        "circle", "helper", "request__member__circle", "request__member__user"
    ).get(pk=visit.pk)


def _may_act_as_helper(actor: User, visit: Visit) -> bool:
    return actor.pk == visit.helper.user_id or may_coordinate(actor, visit.circle)


@transaction.atomic
def visit_check_in(*, visit: Visit, actor: User, now: dt.datetime | None = None) -> Visit:
    """The helper arrives (or a coordinator records that they did).  Not more than two hours
    early; a home visit only while the helper is still vetted.  Twice is harmless."""
    locked = _visit_locked(visit)
    if not _may_act_as_helper(actor, locked):
        raise PermissionDenied
    if locked.checked_in_at is not None:
        return locked
    now = now or timezone.now()
    if now < locked.planned_start - EARLIEST_CHECK_IN:
        raise ValidationError(_("It is too early to check in: the visit starts at %(time)s.")
                              % {"time": timezone.localtime(locked.planned_start).strftime("%H:%M on %d/%m/%Y")})
    if locked.request.is_home_visit and helper_vetting_problems(locked.helper, on=timezone.localtime(now).date()):
        raise ValidationError(
            _("You cannot check in to a visit in someone's home until your checks are up to date. Please contact a coordinator.")
        )
    if locked.completed_at is not None:
        raise ValidationError(_("This visit is already complete."))
    locked.checked_in_at = now
    locked.save(update_fields=["checked_in_at"])
    audit_record(actor=actor, action="circles.visit_check_in", target=locked)
    return locked


@transaction.atomic
def visit_check_out(*, visit: Visit, actor: User, now: dt.datetime | None = None) -> Visit:
    """The helper leaves (or a coordinator records that they did).  Twice is harmless."""
    locked = _visit_locked(visit)
    if not _may_act_as_helper(actor, locked):
        raise PermissionDenied
    if locked.checked_out_at is not None:
        return locked
    if locked.checked_in_at is None:
        raise ValidationError(_("Check in before checking out."))
    locked.checked_out_at = max(now or timezone.now(), locked.checked_in_at)
    locked.save(update_fields=["checked_out_at"])
    audit_record(actor=actor, action="circles.visit_check_out", target=locked)
    return locked


def visit_quarters_due(*, visit: Visit) -> int:
    """Tokens due for a visit, in quarter hours: the time from check-in to check-out to the
    nearest quarter (a half rounds up), at least one and at most twice the estimate; the
    estimate when the visit has no check-in and check-out."""
    estimate = visit.request.estimated_quarters
    if visit.checked_in_at is None or visit.checked_out_at is None:
        return estimate
    seconds = (visit.checked_out_at - visit.checked_in_at).total_seconds()
    quarters = int((seconds + 450) // 900)  # 900 s a quarter; +450 rounds a half up
    return max(1, min(quarters, 2 * estimate))


def _visit_pay(visit: Visit, actor: User) -> None:
    """Pay for a completed visit from the member's tokens; left owed (and the coordinators
    told) when the member has not enough.  Idempotent: the transfer's key is the visit."""
    quarters = visit.quarters or visit_quarters_due(visit=visit)
    member = visit.request.member
    payer = ledger.member_account_ensure(member=member)
    if visit.helper.kind == HelperKind.MEMBER:
        payee = ledger.helper_account_ensure(helper=visit.helper)
    else:
        payee = ledger.circle_accounts_ensure(circle=visit.circle)["help"]
    memo = _("%(category)s with %(helper)s") % {
        "category": visit.request.get_category_display(), "helper": visit.helper.display_name,
    }
    visit.quarters = quarters
    try:
        visit.transfer = ledger.tokens_pay_for_help(
            circle=visit.circle, payer=payer, payee=payee, quarters=quarters,
            idempotency_key=f"visit:{visit.pk}", memo=memo, actor=actor,
            # A coordinator confirming moves the member's tokens for them (assisted use).
            on_behalf_of=member.user
            if actor.pk not in (member.user_id, visit.helper.user_id) else None,
        )
        visit.payment = VisitPayment.PAID
    except ledger.NotEnoughTokensError:
        visit.payment = VisitPayment.OWED
        _tell_coordinators(
            visit.circle, subject=gettext_lazy("Tokens owed for a visit"),
            template="circles/help/email/visit_owed.txt",
            context={"visit": visit, "member": member, "quarters": quarters,
                     "link": _link("help_visit", pk=visit.pk)},
        )


@transaction.atomic
def visit_confirm(*, visit: Visit, actor: User, now: dt.datetime | None = None) -> Visit:
    """The member or the helper says the visit happened; a coordinator's confirmation counts
    for both.  When complete, the member's tokens pay for it (once); if they have too few, the
    visit is still complete and the payment is left owed."""
    locked = _visit_locked(visit)
    member = locked.request.member
    now = now or timezone.now()
    fields: list[str] = []
    if actor.pk == member.user_id:
        if locked.member_confirmed_at is None:
            locked.member_confirmed_at = now
            fields.append("member_confirmed_at")
    elif actor.pk == locked.helper.user_id:
        if locked.helper_confirmed_at is None:
            locked.helper_confirmed_at = now
            fields.append("helper_confirmed_at")
    elif may_coordinate(actor, locked.circle):
        if locked.coordinator_confirmed_at is None:
            locked.coordinator_confirmed_at = now
            locked.coordinator_confirmed_by = actor
            fields += ["coordinator_confirmed_at", "coordinator_confirmed_by"]
    else:
        raise PermissionDenied
    if not fields:
        return locked
    if locked.checked_in_at is None and now < locked.planned_start:
        raise ValidationError(_("You can confirm the visit once it has started."))
    complete = locked.coordinator_confirmed_at is not None or (
        locked.member_confirmed_at is not None and locked.helper_confirmed_at is not None
    )
    if complete and locked.completed_at is None:
        locked.completed_at = now
        fields.append("completed_at")
        _visit_pay(locked, actor)
        fields += ["quarters", "payment", "transfer"]
        HelpRequest.objects.filter(pk=locked.request_id).update(status=RequestStatus.DONE)
        _webhook_on_commit("visit.completed", locked.pk)
    locked.save(update_fields=fields)
    audit_record(actor=actor, action="circles.visit_confirm", target=locked,
                 after={"complete": locked.completed_at is not None, "payment": locked.payment},
                 on_behalf_of=member.user if fields[0] == "coordinator_confirmed_at" else None)
    return locked


@transaction.atomic
def visit_payment_retry(*, visit: Visit, actor: User) -> Visit:
    """A coordinator tries again to take the tokens owed for a completed visit (after the
    member bought more).  Paying twice is impossible: the transfer's key is the visit."""
    locked = _visit_locked(visit)
    coordinator_required(actor, locked.circle)
    if locked.payment != VisitPayment.OWED:
        return locked
    _visit_pay(locked, actor)
    locked.save(update_fields=["quarters", "payment", "transfer"])
    audit_record(actor=actor, action="circles.visit_payment_retry", target=locked,
                 after={"payment": locked.payment})
    return locked


@transaction.atomic
def visit_feedback_give(
    *, visit: Visit, actor: User, rating: int, comment: str = ""
) -> VisitFeedback:
    """The member or the helper says how a visit went (1 to 5), once each, after it."""
    member_user_id = visit.request.member.user_id
    if actor.pk == member_user_id:
        side = FeedbackSide.MEMBER
    elif actor.pk == visit.helper.user_id:
        side = FeedbackSide.HELPER
    else:
        raise PermissionDenied
    if visit.completed_at is None and visit.checked_out_at is None:
        raise ValidationError(_("You can say how it went once the visit is over."))
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Choose how it went")]})
    try:
        with transaction.atomic():
            feedback = VisitFeedback.objects.create(
                visit=visit, side=side, author=actor, rating=rating, comment=(comment or "").strip()[:DESCRIPTION_MAX]
            )
    except IntegrityError as error:
        raise ValidationError(_("You have already said how this visit went. Thank you.")) from error
    audit_record(actor=actor, action="circles.visit_feedback_give", target=visit, after={"rating": rating})
    return feedback


def visit_parties(*, visit: Visit) -> set[int]:
    """The users who took part in a visit: the member and the helper."""
    return {visit.request.member.user_id, visit.helper.user_id}


@transaction.atomic
def incident_report(
    *,
    circle: Circle,
    actor: User,
    description: str,
    idempotency_key: str,
    anyone_hurt: bool = False,
    visit: Visit | None = None,
) -> IncidentReport:
    """Report an incident; the circle's coordinators get an email straight away (when the
    report is saved).  About a visit: by its member, its helper or a coordinator.  Sending
    the same form twice makes one report."""
    if visit is not None:
        if visit.circle_id != circle.pk:
            raise PermissionDenied
        if actor.pk not in visit_parties(visit=visit) and not may_coordinate(actor, circle):
            raise PermissionDenied
    elif not may_coordinate(actor, circle) and not (
        Member.objects.filter(circle=circle, user_id=actor.pk).exists()
        or Helper.objects.filter(circle=circle, user_id=actor.pk).exists()
    ):
        raise PermissionDenied
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": [_("Say what happened")]})
    key = (idempotency_key or "").strip()[:100]
    if not key:
        raise ValidationError(_("The form was incomplete. Please try again."))
    existing = IncidentReport.objects.filter(circle=circle, idempotency_key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            incident = IncidentReport.objects.create(
                circle=circle, visit=visit, reported_by=actor, description=description[:DESCRIPTION_MAX * 2],
                anyone_hurt=anyone_hurt, idempotency_key=key,
            )
    except IntegrityError:
        return IncidentReport.objects.get(circle=circle, idempotency_key=key)
    audit_record(actor=actor, action="circles.incident_report", target=incident,
                 after={"visit": visit, "anyone_hurt": anyone_hurt})
    _tell_coordinators(
        circle,
        subject=gettext_lazy("Urgent: incident reported, someone hurt or at risk") if anyone_hurt
        else gettext_lazy("Incident reported"),
        template="circles/help/email/incident.txt",
        context={"incident": incident, "visit": visit, "reporter": actor},
    )
    return incident


def visits_alert_missed_checkouts(*, now: dt.datetime | None = None) -> int:
    """Email each circle's coordinators about every visit checked in but not checked out
    ``missed_checkout_minutes`` after its planned end; once per visit (a conditional update
    claims it, so two runs at once cannot both send).  Returns how many visits were alerted."""
    now = now or timezone.now()
    candidates = (
        Visit.objects.filter(
            checked_in_at__isnull=False, checked_out_at__isnull=True, completed_at__isnull=True,
            missed_checkout_alerted_at__isnull=True, planned_end__lte=now,
        )
        .select_related("circle", "helper", "request__member")
        .order_by("planned_end", "pk")
    )
    alerted = 0
    for visit in candidates:
        if visit.planned_end + dt.timedelta(minutes=visit.circle.missed_checkout_minutes) > now:
            continue
        with transaction.atomic():
            claimed = Visit.objects.filter(
                pk=visit.pk, missed_checkout_alerted_at__isnull=True, checked_out_at__isnull=True
            ).update(missed_checkout_alerted_at=now)
            if not claimed:
                continue
            _tell_coordinators(
                visit.circle, subject=gettext_lazy("Urgent: a helper has not checked out"),
                template="circles/help/email/missed_checkout.txt",
                context={"visit": visit, "member": visit.request.member, "helper": visit.helper,
                         "link": _link("help_visit", pk=visit.pk)},
            )
            audit_record(actor=None, action="circles.visit_missed_checkout_alert", target=visit)
        alerted += 1
    return alerted
