"""The directory in the Django admin, for site administrators.

Organisations, services and staff are saved through ``directory.services`` so that the tree
paths, the "last administrator" rule and the audit log hold here too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from localsocial.accounts.actors import signed_in_actor
from localsocial.core.admin_site import AuditedModelAdmin
from localsocial.directory import services
from localsocial.directory.models import (
    Area,
    Organisation,
    OrganisationMembership,
    Service,
    StaffRole,
)

URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Area)
class AreaAdmin(AuditedModelAdmin):
    list_display = ["name", "gss_code", "area_type"]
    list_filter = ["area_type"]
    search_fields = ["name", "gss_code"]
    ordering = ["name"]


@admin.register(Organisation)
class OrganisationAdmin(AuditedModelAdmin):
    list_display = ["name", "org_type", "parent", "ods_code", "gss_code", "postcode", "depth"]
    list_filter = ["org_type", "depth", "is_private_provider"]
    search_fields = ["name", "slug", "ods_code", "gss_code", "charity_number", "postcode"]
    raw_id_fields = ["parent"]
    autocomplete_fields = ["areas_served"]
    readonly_fields = ["path", "depth", "created_at", "updated_at"]
    list_select_related = ["parent"]
    show_full_result_count = False
    formfield_overrides = URL_FIELDS

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The service writes the audit entry; areas_served is saved by save_related.
        fields = [name for name in form.changed_data if name in services.ORGANISATION_FIELDS]
        data = {name: form.cleaned_data[name] for name in fields}
        if change:
            original = Organisation.objects.get(pk=obj.pk)
            services.organisation_update(actor=signed_in_actor(request), organisation=original, **data)
            obj.refresh_from_db()
        else:
            data.pop("name", None)
            data.pop("org_type", None)
            created = services.organisation_create(
                actor=signed_in_actor(request), name=form.cleaned_data["name"], org_type=form.cleaned_data["org_type"], **data,
            )
            obj.pk = created.pk
            obj.refresh_from_db()


@admin.register(Service)
class ServiceAdmin(AuditedModelAdmin):
    list_display = ["name", "organisation", "lgsl_id", "ods_code", "postcode", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "ods_code", "postcode", "organisation__name"]
    raw_id_fields = ["organisation"]
    list_select_related = ["organisation"]
    show_full_result_count = False
    formfield_overrides = URL_FIELDS

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = [name for name in form.changed_data if name in services.SERVICE_FIELDS]
        data = {name: form.cleaned_data[name] for name in fields}
        if change:
            services.service_update(actor=signed_in_actor(request), service=Service.objects.get(pk=obj.pk), **data)
        else:
            data.pop("organisation", None)
            data.pop("name", None)
            created = services.service_create(
                actor=signed_in_actor(request), organisation=form.cleaned_data["organisation"],
                name=form.cleaned_data["name"], **data,
            )
            obj.pk = created.pk
        obj.refresh_from_db()


@admin.register(OrganisationMembership)
class OrganisationMembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "organisation", "role", "job_title", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "organisation__name", "job_title"]
    raw_id_fields = ["user", "organisation", "added_by"]
    list_select_related = ["user", "organisation"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            services.membership_change(
                actor=signed_in_actor(request), organisation=obj.organisation, membership_id=obj.pk,
                role=obj.role, job_title=obj.job_title,
            )
        else:
            membership, _created = services.membership_add(
                actor=signed_in_actor(request), organisation=obj.organisation, email=obj.user.email,
                role=obj.role, job_title=obj.job_title,
            )
            obj.pk = membership.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Not offered for the last administrator of a top-level organisation.
        if (
            obj is not None
            and obj.role == StaffRole.ADMINISTRATOR
            and obj.organisation.parent_id is None
            and not OrganisationMembership.objects.filter(organisation=obj.organisation, role=StaffRole.ADMINISTRATOR)
            .exclude(pk=obj.pk)
            .exists()
        ):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            services.membership_remove(
                actor=signed_in_actor(request), organisation=obj.organisation, membership_id=obj.pk
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset.select_related("organisation"):
            self.delete_model(request, membership)
