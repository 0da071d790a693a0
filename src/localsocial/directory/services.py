"""Every write to the directory (the CSV import is in ``directory.imports``)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify
from django.utils.translation import gettext as _

from localsocial.accounts.models import User
from localsocial.core.services import audit_record, model_snapshot
from localsocial.directory.models import (
    MAX_DEPTH,
    PATH_STEP,
    Area,
    Organisation,
    OrganisationMembership,
    Service,
    StaffRole,
    normalise_postcode,
    path_segment,
)
from localsocial.directory.page_groups import directory_pages_changed

# The fields callers may set; ``path`` and ``depth`` follow from ``parent``.
ORGANISATION_FIELDS = (
    "name", "slug", "org_type", "parent", "ods_code", "gss_code", "charity_number",
    "description", "website", "email", "phone", "address", "postcode", "latitude",
    "longitude", "is_private_provider",
)
SERVICE_FIELDS = (
    "organisation", "name", "slug", "description", "lgsl_id", "ods_code", "address",
    "postcode", "latitude", "longitude", "website", "email", "phone", "is_active",
)
MEMBERSHIP_FIELDS = ["role", "job_title"]


# --- Helpers ----------------------------------------------------------------------------------

def slug_from_name(name: str, *, fallback: str) -> str:
    """A slug in the directory's own alphabet (a-z, 0-9 and single hyphens)."""
    slug = re.sub(r"[^a-z0-9]+", "-", slugify(name).lower()).strip("-")[:200].strip("-")
    return slug or fallback


def unique_slug(model: type[models.Model], name: str, *, fallback: str) -> str:
    """The slug of ``name``, with "-2", "-3"… added if another record already has it."""
    base = slug_from_name(name, fallback=fallback)
    taken = set(
        model._default_manager.filter(slug__startswith=base).values_list("slug", flat=True)  # type: ignore[attr-defined]
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _clean_code(value: Any) -> str | None:
    text = "".join(str(value or "").split()).upper()
    return text or None


def _normalise(instance: Organisation | Service) -> None:
    instance.name = " ".join((instance.name or "").split())
    instance.ods_code = _clean_code(instance.ods_code)
    if isinstance(instance, Organisation):
        instance.gss_code = _clean_code(instance.gss_code)
        instance.charity_number = "".join((instance.charity_number or "").split()).upper()
    instance.postcode = normalise_postcode(instance.postcode)
    # As the CSV import tidies them, so that an export imports back unchanged.
    instance.description = (instance.description or "").strip()
    instance.address = (instance.address or "").strip()
    instance.phone = " ".join((instance.phone or "").split())
    instance.website = (instance.website or "").strip()
    instance.email = (instance.email or "").strip()


def _full_clean(instance: models.Model) -> None:
    # ``path`` and ``depth`` are worked out here, not supplied, so they are not validated.
    instance.full_clean(exclude=["path", "depth"] if isinstance(instance, Organisation) else None)


def _check_fields(changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")


# --- The tree ---------------------------------------------------------------------------------

@transaction.atomic
def organisation_set_path(*, organisation: Organisation) -> Organisation:
    """Recompute the materialised path and depth of an organisation from its parent.

    For a newly inserted organisation (its own id is part of its path); moving an existing
    one, with its subtree, is ``organisation_update(parent=…)``."""
    segment = path_segment(organisation.pk)
    if organisation.parent_id is None:
        path, depth = segment, 0
    else:
        parent = Organisation.objects.only("path", "depth").get(pk=organisation.parent_id)
        path, depth = parent.path + segment, parent.depth + 1
    if depth > MAX_DEPTH:
        raise ValidationError(
            {"parent": _("The directory is at most %(levels)s levels deep.") % {"levels": MAX_DEPTH + 1}}
        )
    Organisation.objects.filter(pk=organisation.pk).update(path=path, depth=depth)
    organisation.path, organisation.depth = path, depth
    return organisation


def _move_subtree(*, organisation: Organisation, new_parent: Organisation | None) -> None:
    """Move an organisation and everything below it under ``new_parent``, in one UPDATE.

    Locks the organisation and the new parent's whole line, in id order, so that two moves at
    once cannot make a loop between them; then checks for a loop on the fresh paths."""
    lock_ids = {organisation.pk}
    if new_parent is not None:
        lock_ids |= set(new_parent.lineage_ids)
    locked = {
        row.pk: row
        for row in Organisation.objects.select_for_update()
        .filter(pk__in=lock_ids)
        .order_by("pk")
        .only("id", "path", "depth")
    }
    old_path = locked[organisation.pk].path
    old_depth = locked[organisation.pk].depth
    if new_parent is None:
        new_path, new_depth = path_segment(organisation.pk), 0
    else:
        fresh_parent = locked.get(new_parent.pk)
        if fresh_parent is None:
            raise ValidationError({"parent": _("That organisation no longer exists.")})
        if fresh_parent.pk == organisation.pk or fresh_parent.path.startswith(old_path):
            raise ValidationError(
                {"parent": _("An organisation cannot be part of itself or of one of its own parts.")}
            )
        new_path = fresh_parent.path + path_segment(organisation.pk)
        new_depth = fresh_parent.depth + 1
    if new_path == old_path:
        return
    delta = new_depth - old_depth
    subtree = Organisation.objects.filter(path__startswith=old_path)
    deepest = subtree.aggregate(deepest=Max("depth"))["deepest"] or old_depth
    if deepest + delta > MAX_DEPTH:
        raise ValidationError(
            {"parent": _("The directory is at most %(levels)s levels deep.") % {"levels": MAX_DEPTH + 1}}
        )
    subtree.update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=models.CharField()),
        depth=F("depth") + delta,
    )
    organisation.path, organisation.depth = new_path, new_depth
    assert len(new_path) == (new_depth + 1) * PATH_STEP


# --- Organisations ----------------------------------------------------------------------------

@transaction.atomic
def organisation_create(
    *,
    actor: User | None,
    name: str,
    org_type: str,
    parent: Organisation | None = None,
    slug: str = "",
    areas_served: list[Area] | None = None,
    **details: Any,
) -> Organisation:
    """Add an organisation under ``parent`` (or at the top), with a unique slug made from its
    name unless one is given.  Validates every field and constraint first (raises
    ValidationError with a message per field) and records the addition in the audit log."""
    _check_fields(details, ORGANISATION_FIELDS)
    organisation = Organisation(name=name, org_type=org_type, parent=parent, **details)
    _normalise(organisation)
    generated = not slug
    organisation.slug = slug or unique_slug(Organisation, organisation.name, fallback="organisation")
    if parent is not None and parent.depth >= MAX_DEPTH:
        raise ValidationError(
            {"parent": _("The directory is at most %(levels)s levels deep.") % {"levels": MAX_DEPTH + 1}}
        )
    _full_clean(organisation)
    for attempt in range(3):
        try:
            with transaction.atomic():
                organisation.save(force_insert=True)
            break
        except IntegrityError:
            # Someone took the same generated slug a moment ago: take the next one.
            if not generated or attempt == 2:
                raise
            organisation.pk = None
            organisation.slug = unique_slug(Organisation, organisation.name, fallback="organisation")
    organisation_set_path(organisation=organisation)
    if areas_served:
        organisation.areas_served.set(areas_served)
    audit_record(
        actor=actor, action="directory.organisation_create", target=organisation,
        after=model_snapshot(organisation, ["name", "slug", "org_type", "parent_id"]),
    )
    directory_pages_changed()
    return organisation


@transaction.atomic
def organisation_update(
    *,
    actor: User | None,
    organisation: Organisation,
    areas_served: list[Area] | None = None,
    **changes: Any,
) -> Organisation:
    """Change the given fields of an organisation.  A new ``parent`` moves the whole subtree
    (every path below it, in one UPDATE) and is refused with a ValidationError if it would
    put the organisation inside itself.  Saving the same values again changes nothing and
    writes no audit entry."""
    _check_fields(changes, ORGANISATION_FIELDS)
    current = Organisation.objects.select_for_update().get(pk=organisation.pk)
    old_parent_id = current.parent_id
    names = [name for name in changes if name != "parent"]
    before = model_snapshot(current, [*names, "parent_id"] if "parent" in changes else names)
    for name, value in changes.items():
        setattr(current, name, value)
    _normalise(current)
    parent_changed = current.parent_id != old_parent_id
    new_parent = current.parent if parent_changed else None
    _full_clean(current)
    after = model_snapshot(current, list(before))
    changed_fields = [name for name in before if before[name] != after[name]]
    if changed_fields:
        update_fields = [("parent" if name == "parent_id" else name) for name in changed_fields]
        current.save(update_fields=[*update_fields, "updated_at"])
    if parent_changed:
        _move_subtree(organisation=current, new_parent=new_parent)
    areas_changed = False
    if areas_served is not None:
        old_areas = set(current.areas_served.values_list("pk", flat=True))
        new_areas = {area.pk for area in areas_served}
        if old_areas != new_areas:
            current.areas_served.set(areas_served)
            before["areas_served"], after["areas_served"] = sorted(old_areas), sorted(new_areas)
            areas_changed = True
    if changed_fields or areas_changed:
        audit_record(
            actor=actor, action="directory.organisation_update", target=current,
            before={k: v for k, v in before.items() if before[k] != after[k]},
            after={k: v for k, v in after.items() if before[k] != after[k]},
        )
        directory_pages_changed()
    # The caller's instance reflects what was saved.
    for name in ORGANISATION_FIELDS:
        if name != "parent":
            setattr(organisation, name, getattr(current, name))
    organisation.parent_id = current.parent_id
    organisation.path, organisation.depth = current.path, current.depth
    return organisation


# --- Services ---------------------------------------------------------------------------------

@transaction.atomic
def service_create(
    *,
    actor: User | None,
    organisation: Organisation,
    name: str,
    slug: str = "",
    **details: Any,
) -> Service:
    """Add a service run by ``organisation``, with a unique slug made from its name unless one
    is given.  Validates first; records the addition in the audit log."""
    _check_fields(details, SERVICE_FIELDS)
    service = Service(organisation=organisation, name=name, **details)
    _normalise(service)
    generated = not slug
    service.slug = slug or unique_slug(Service, service.name, fallback="service")
    _full_clean(service)
    for attempt in range(3):
        try:
            with transaction.atomic():
                service.save(force_insert=True)
            break
        except IntegrityError:
            if not generated or attempt == 2:
                raise
            service.pk = None
            service.slug = unique_slug(Service, service.name, fallback="service")
    audit_record(
        actor=actor, action="directory.service_create", target=service,
        after=model_snapshot(service, ["name", "slug", "organisation_id", "lgsl_id"]),
    )
    directory_pages_changed()
    return service


@transaction.atomic
def service_update(
    *, actor: User | None, service: Service, **changes: Any
) -> Service:
    """Change the given fields of a service (including moving it to another organisation).
    Validates first; the same values again change nothing and write no audit entry."""
    _check_fields(changes, SERVICE_FIELDS)
    current = Service.objects.select_for_update().get(pk=service.pk)
    names = ["organisation_id" if name == "organisation" else name for name in changes]
    before = model_snapshot(current, names)
    for name, value in changes.items():
        setattr(current, name, value)
    _normalise(current)
    _full_clean(current)
    after = model_snapshot(current, names)
    changed = [name for name in names if before[name] != after[name]]
    if changed:
        current.save(update_fields=[*(n.removesuffix("_id") for n in changed), "updated_at"])
        audit_record(
            actor=actor, action="directory.service_update", target=current,
            before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
        )
        directory_pages_changed()
    for name in SERVICE_FIELDS:
        if name != "organisation":
            setattr(service, name, getattr(current, name))
    service.organisation_id = current.organisation_id
    return service


# --- Staff ------------------------------------------------------------------------------------

def _lock_organisation(organisation: Organisation) -> Organisation:
    # Every change to an organisation's staff takes this row lock first, so that two
    # administrators acting at once are taken one after the other (and the "last
    # administrator" rule holds).
    return Organisation.objects.select_for_update().get(pk=organisation.pk)


def _check_role(role: str) -> None:
    if role not in StaffRole.values:
        raise ValidationError({"role": _("Select a role.")})


def _check_job_title(job_title: str) -> str:
    job_title = " ".join((job_title or "").split())
    if len(job_title) > 120:
        raise ValidationError({"job_title": _("Job title must be 120 characters or fewer.")})
    return job_title


def _ensure_not_last_administrator(organisation: Organisation, membership: OrganisationMembership) -> None:
    if organisation.parent_id is not None or membership.role != StaffRole.ADMINISTRATOR:
        return
    others = (
        OrganisationMembership.objects.filter(organisation=organisation, role=StaffRole.ADMINISTRATOR)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise ValidationError(
            _(
                "%(organisation)s must have at least one administrator. "
                "Make someone else an administrator first."
            )
            % {"organisation": organisation.name}
        )


@transaction.atomic
def membership_add(
    *,
    actor: User | None,
    organisation: Organisation,
    email: str,
    role: str,
    job_title: str = "",
) -> tuple[OrganisationMembership, bool]:
    """Add the person with this email address to the organisation's staff.

    Returns (membership, created).  Adding someone who is already there with the same role
    and job title changes nothing (created is False); with a different role it is refused, as
    that is a change of role.  Raises ValidationError if no account has that address."""
    _check_role(role)
    job_title = _check_job_title(job_title)
    email = (email or "").strip()
    user = (
        get_user_model()
        ._default_manager.filter(email__iexact=email, is_active=True, erased_at__isnull=True)
        .first()
    )
    if user is None:
        raise ValidationError(
            {
                "email": _(
                    "There is no account with the email address %(email)s. Ask them to "
                    "create an account, then add them."
                )
                % {"email": email}
            }
        )
    organisation = _lock_organisation(organisation)
    membership, created = OrganisationMembership.objects.get_or_create(
        user=user,
        organisation=organisation,
        defaults={"role": role, "job_title": job_title, "added_by": actor if getattr(actor, "pk", None) else None},
    )
    if not created:
        if membership.role == role and membership.job_title == job_title:
            return membership, False
        raise ValidationError(
            {
                "email": _("%(email)s is already on the staff of %(organisation)s. Change their role instead.")
                % {"email": user.email, "organisation": organisation.name}
            }
        )
    audit_record(
        actor=actor, action="directory.staff_add", target=organisation,
        after={"user": user.pk, "email": user.email, "role": role, "job_title": job_title},
    )
    return membership, True


@transaction.atomic
def membership_change(
    *,
    actor: User | None,
    organisation: Organisation,
    membership_id: int,
    role: str,
    job_title: str,
) -> tuple[OrganisationMembership, bool]:
    """Change a staff member's role and job title.  Returns (membership, changed).

    Refuses (ValidationError) to demote the last administrator of a top-level organisation.
    Raises OrganisationMembership.DoesNotExist if they are not on this organisation's staff."""
    _check_role(role)
    job_title = _check_job_title(job_title)
    organisation = _lock_organisation(organisation)
    membership = OrganisationMembership.objects.select_related("user").get(
        pk=membership_id, organisation=organisation
    )
    before = model_snapshot(membership, MEMBERSHIP_FIELDS)
    if before == {"role": role, "job_title": job_title}:
        return membership, False
    if role != StaffRole.ADMINISTRATOR:
        _ensure_not_last_administrator(organisation, membership)
    membership.role, membership.job_title = role, job_title
    membership.save(update_fields=MEMBERSHIP_FIELDS)
    audit_record(
        actor=actor, action="directory.staff_change", target=organisation,
        before={"user": membership.user_id, "email": membership.user.email, **before},
        after={"user": membership.user_id, "email": membership.user.email,
               **model_snapshot(membership, MEMBERSHIP_FIELDS)},
    )
    return membership, True


@transaction.atomic
def membership_remove(
    *,
    actor: User | None,
    organisation: Organisation,
    membership_id: int,
) -> bool:
    """Take someone off the organisation's staff.  Returns False if they were not on it
    (removing twice is harmless).  Refuses (ValidationError) to remove the last administrator
    of a top-level organisation."""
    organisation = _lock_organisation(organisation)
    membership = (
        OrganisationMembership.objects.select_related("user")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if membership is None:
        return False
    _ensure_not_last_administrator(organisation, membership)
    before = {"user": membership.user_id, "email": membership.user.email,
              **model_snapshot(membership, MEMBERSHIP_FIELDS)}
    membership.delete()
    audit_record(actor=actor, action="directory.staff_remove", target=organisation, before=before)
    return True
