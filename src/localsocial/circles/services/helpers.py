"""Helpers: whether one may be sent into a home (vetting), their skills and free times, and a
member becoming a helper.

``helper_is_vetted_for_home_visits`` is the one rule for home visits: every service that
offers a request to a helper, or lets a helper accept one, asks it about the day of the visit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.circles.models import (
    DbsStatus,
    Helper,
    HelperAvailability,
    HelperKind,
    HelperSkill,
    HelperTransition,
    Member,
    MemberStatus,
)
from localsocial.circles.rules import is_coordinator_of
from localsocial.circles.selectors.help import helper_vetting_problems
from localsocial.circles.selectors.membership import may_coordinate
from localsocial.core.services import audit_record
from localsocial.directory.selectors import postcode_locate


def helper_is_vetted_for_home_visits(*, helper: Helper, on: dt.date | None = None) -> bool:
    """True only if ``helper`` may go into someone's home on the day ``on`` (today when not
    given): active, a clear DBS check that has not expired by that day, references checked and
    induction training done by then."""
    return not helper_vetting_problems(helper, on=on or timezone.localdate())


@transaction.atomic
def helper_skills_set(*, helper: Helper, categories: Iterable[str], actor: User) -> None:
    """Replace the kinds of help ``helper`` gives.  The helper themself or a coordinator."""
    _may_manage(actor, helper)
    wanted = sorted(set(categories))
    before = sorted(helper.skills.values_list("category", flat=True))
    helper.skills.exclude(category__in=wanted).delete()
    for category in wanted:
        HelperSkill.objects.get_or_create(helper=helper, category=category)
    audit_record(actor=actor, action="circles.helper_skills_set", target=helper,
                 before={"skills": before}, after={"skills": wanted})


@transaction.atomic
def helper_availability_set(
    *, helper: Helper, slots: Iterable[tuple[int, dt.time, dt.time]], actor: User
) -> None:
    """Replace the times in the week ``helper`` is usually free: (weekday, from, until)."""
    _may_manage(actor, helper)
    slots = sorted(set(slots))
    for _weekday, starts, ends in slots:
        if ends <= starts:
            raise ValidationError(_("Each free time must end after it starts."))
    helper.availability.all().delete()
    HelperAvailability.objects.bulk_create(
        HelperAvailability(helper=helper, weekday=weekday, starts=starts, ends=ends) for weekday, starts, ends in slots
    )
    audit_record(actor=actor, action="circles.helper_availability_set", target=helper,
                 after={"slots": [(w, str(s), str(e)) for w, s, e in slots]})


@transaction.atomic
def member_become_helper(
    *, member: Member, actor: User, travel_radius_km: float | None = None
) -> Helper:
    """Make ``member`` a helper who earns tokens (kind "member"), recording the change for
    reports.  A coordinator of the member's circle does it (vetting follows as for anyone).
    Idempotent: a member who is already a helper gets their helper record back."""
    if not is_coordinator_of(actor, member.circle):
        raise PermissionDenied
    existing = Helper.objects.filter(member=member).first()
    if existing is not None:
        return existing
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(_("Only an active member can become a helper."))
    if Helper.objects.filter(circle_id=member.circle_id, user_id=member.user_id).exists():
        raise ValidationError(_("This person is already a helper in this circle."))
    try:
        with transaction.atomic():
            helper = Helper.objects.create(
                circle_id=member.circle_id, user_id=member.user_id, member=member, kind=HelperKind.MEMBER,
                display_name=member.display_name, postcode=member.postcode, **_coordinates(member.postcode),
                **({"travel_radius_km": travel_radius_km} if travel_radius_km is not None else {}),
            )
    except IntegrityError:
        # Someone else made them a helper at the same moment.
        return Helper.objects.get(member=member)
    HelperTransition.objects.create(circle_id=member.circle_id, member=member, helper=helper, recorded_by=actor)
    audit_record(actor=actor, action="circles.member_became_helper", target=helper,
                 after={"member": member.pk}, on_behalf_of=member.user)
    return helper


def _coordinates(postcode: str) -> dict[str, float | None]:
    """Where a postcode is, for matching by distance: empty when it is not in the postcode data
    (matching then compares postcode districts)."""
    latitude, longitude = postcode_locate(postcode) or (None, None)
    return {"latitude": latitude, "longitude": longitude}


def _may_manage(actor: User, helper: Helper) -> None:
    if actor.pk == helper.user_id or is_coordinator_of(actor, helper.circle):
        return
    raise PermissionDenied


@transaction.atomic
def helper_profile_set(
    *,
    helper: Helper,
    categories: Iterable[str],
    slots: Iterable[tuple[int, dt.time, dt.time]],
    actor: User,
) -> Helper:
    """Set what ``helper`` does and when they are usually free, together (one form).  Their
    place on the map is brought up to date from their postcode (postcode data loaded since)."""
    helper_skills_set(helper=helper, categories=categories, actor=actor)
    helper_availability_set(helper=helper, slots=slots, actor=actor)
    coordinates = _coordinates(helper.postcode)
    if coordinates["latitude"] is not None and coordinates != {"latitude": helper.latitude, "longitude": helper.longitude}:
        Helper.objects.filter(pk=helper.pk).update(**coordinates)
        helper.latitude, helper.longitude = coordinates["latitude"], coordinates["longitude"]
    return helper


VETTING_FIELDS = (
    "dbs_status", "dbs_checked_on", "dbs_expires_on", "references_checked", "training_completed_on", "is_active",
)


def _vetting_snapshot(helper: Helper) -> dict[str, Any]:
    values = {name: getattr(helper, name) for name in VETTING_FIELDS}
    return {name: value.isoformat() if isinstance(value, dt.date) else value for name, value in values.items()}


@transaction.atomic
def helper_vetting_update(
    *,
    helper: Helper,
    actor: User,
    dbs_status: str,
    dbs_checked_on: dt.date | None,
    dbs_expires_on: dt.date | None,
    references_checked: bool,
    training_completed_on: dt.date | None,
    is_active: bool,
) -> Helper:
    """Record ``helper``'s DBS check, references, induction training and whether they are an
    active helper.  Only the circle's coordinators (or a site administrator).  Saving the same
    values again changes nothing but the audit log."""
    if not may_coordinate(actor, helper.circle):
        raise PermissionDenied
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    if dbs_status not in DbsStatus.values:
        errors.setdefault("dbs_status", []).append(_("Choose the state of the DBS check"))
    if dbs_status == DbsStatus.CLEAR:
        if dbs_checked_on is None:
            errors.setdefault("dbs_checked_on", []).append(_("Enter the day the DBS check was done"))
        if dbs_expires_on is None:
            errors.setdefault("dbs_expires_on", []).append(_("Enter the day the DBS check expires"))
    if dbs_checked_on is not None and dbs_checked_on > today:
        errors.setdefault("dbs_checked_on", []).append(_("The day the DBS check was done must be today or in the past"))
    if dbs_checked_on is not None and dbs_expires_on is not None and dbs_expires_on <= dbs_checked_on:
        errors.setdefault("dbs_expires_on", []).append(_("The expiry day must be after the day the check was done"))
    if training_completed_on is not None and training_completed_on > today:
        errors.setdefault("training_completed_on", []).append(
            _("The day training was completed must be today or in the past"))
    if errors:
        raise ValidationError(errors)
    helper = Helper.objects.select_for_update().select_related("circle").get(pk=helper.pk)
    before = _vetting_snapshot(helper)
    helper.dbs_status = dbs_status
    helper.dbs_checked_on = dbs_checked_on
    helper.dbs_expires_on = dbs_expires_on
    helper.references_checked = references_checked
    helper.training_completed_on = training_completed_on
    helper.is_active = is_active
    helper.save(update_fields=list(VETTING_FIELDS))
    audit_record(actor=actor, action="circles.helper_vetting_update", target=helper,
                 before=before, after=_vetting_snapshot(helper))
    return helper
