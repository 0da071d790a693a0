"""The directory's pages: browse, search, organisation and service pages, staff management
and the CSV import and export for site administrators."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from localsocial.accounts.actors import signed_in_actor
from localsocial.core.forms import form_errors_apply
from localsocial.core.page_cache import conditional_on, public_page
from localsocial.core.pagination import InvalidCursorError
from localsocial.directory import selectors, services
from localsocial.directory.exports import directory_export_lines, directory_open_data_lines
from localsocial.directory.forms import (
    BrowseForm,
    DirectoryImportForm,
    SearchForm,
    StaffAddForm,
    StaffChangeForm,
)
from localsocial.directory.imports import directory_import
from localsocial.directory.models import OrganisationMembership, OrganisationType
from localsocial.directory.page_groups import DIRECTORY_PAGES

PAGE_SIZE = settings.PAGE_SIZE
MAX_ERRORS_SHOWN = 500


def _cursor(request: HttpRequest, name: str = "cursor") -> str | None:
    return request.GET.get(name) or None


# --- Public pages -----------------------------------------------------------------------------

@public_page([DIRECTORY_PAGES])
def index(request: HttpRequest) -> HttpResponse:
    browse = BrowseForm(request.GET)
    org_type = browse.cleaned_data["type"] if browse.is_valid() else ""
    try:
        page = selectors.organisation_list_for_browse(
            org_type=org_type or None, cursor=_cursor(request), page_size=PAGE_SIZE
        )
    except InvalidCursorError as exc:
        raise Http404 from exc
    type_label = OrganisationType(org_type).label if org_type else ""
    return render(
        request,
        "directory/index.html",
        {
            "page_title": _("%(type)s in the directory") % {"type": type_label} if org_type else _("Directory"),
            "search_form": SearchForm(),
            "types": OrganisationType.choices,
            "org_type": org_type,
            "type_label": type_label,
            "page": page,
            "pagination": page.govuk_params(request, landmark_label=_("Organisations pages")),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    if not data.get("kind"):
        data["kind"] = "all"
    form = SearchForm(data if "q" in request.GET else None, initial={"kind": "all"})
    page = pagination = None
    query = ""
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"]
        try:
            page = selectors.directory_search(
                query=query, kind=form.cleaned_data["kind"], cursor=_cursor(request), page_size=PAGE_SIZE
            )
        except InvalidCursorError as exc:
            raise Http404 from exc
        pagination = page.govuk_params(request, landmark_label=_("Search results pages"))
    if form.is_bound and not form.is_valid():
        title = _("Error: Search the directory")
    elif query:
        title = _("Search results for “%(query)s”") % {"query": query}
    else:
        title = _("Search the directory")
    return render(
        request,
        "directory/search.html",
        {"page_title": title, "form": form, "query": query, "page": page, "pagination": pagination},
    )


@public_page([DIRECTORY_PAGES])
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        data = selectors.organisation_get_for_page(
            slug=slug, user=request.user, children_cursor=_cursor(request, "children"),
            services_cursor=_cursor(request, "services"), page_size=PAGE_SIZE,
        )
    except InvalidCursorError as exc:
        raise Http404 from exc
    return render(
        request,
        "directory/organisation.html",
        {
            "page_title": data.organisation.name,
            "data": data,
            "org": data.organisation,
            "children_pagination": data.children.govuk_params(
                request, landmark_label=_("Organisations within %(name)s pages") % {"name": data.organisation.name}
            ),
            "services_pagination": data.services.govuk_params(
                request, landmark_label=_("Services from %(name)s pages") % {"name": data.organisation.name}
            ),
        },
    )


@public_page([DIRECTORY_PAGES])
def service(request: HttpRequest, slug: str) -> HttpResponse:
    data = selectors.service_get_for_page(slug=slug)
    return render(
        request, "directory/service.html", {"page_title": data.service.name, "data": data, "service": data.service}
    )


# --- Staff management -------------------------------------------------------------------------

@login_required
def staff_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organisation_get_for_staff_management(user=signed_in_actor(request), slug=slug)
    try:
        page = selectors.membership_list_for_organisation(
            organisation=org, cursor=_cursor(request), page_size=PAGE_SIZE
        )
    except InvalidCursorError as exc:
        raise Http404 from exc
    return render(
        request,
        "directory/staff_list.html",
        {
            "page_title": _("Staff of %(name)s") % {"name": org.name},
            "org": org,
            "page": page,
            "pagination": page.govuk_params(request, landmark_label=_("Staff pages")),
            "ancestors": selectors.organisation_ancestors(organisation=org),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_add(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organisation_get_for_staff_management(user=signed_in_actor(request), slug=slug)
    form = StaffAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership, created = services.membership_add(
                actor=signed_in_actor(request), organisation=org, email=form.cleaned_data["email"],
                role=form.cleaned_data["role"], job_title=form.cleaned_data["job_title"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            if created:
                messages.success(
                    request, _("%(email)s is now on the staff of %(name)s") % {"email": membership.user.email, "name": org.name}
                )
            else:
                messages.info(
                    request, _("%(email)s was already on the staff of %(name)s") % {"email": membership.user.email, "name": org.name}
                )
            return redirect("directory:staff", slug=org.slug)
    return render(
        request,
        "directory/staff_add.html",
        {
            "page_title": (_("Error: ") if form.errors else "") + _("Add someone to the staff of %(name)s") % {"name": org.name},
            "org": org,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_change(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    org = selectors.organisation_get_for_staff_management(user=signed_in_actor(request), slug=slug)
    membership = selectors.membership_get_for_management(organisation=org, membership_id=membership_id)
    form = StaffChangeForm(
        request.POST if request.method == "POST" else None,
        initial={"role": membership.role, "job_title": membership.job_title},
    )
    if request.method == "POST" and form.is_valid():
        try:
            _membership, changed = services.membership_change(
                actor=signed_in_actor(request), organisation=org, membership_id=membership.pk,
                role=form.cleaned_data["role"], job_title=form.cleaned_data["job_title"],
            )
        except OrganisationMembership.DoesNotExist as exc:
            raise Http404 from exc
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            if changed:
                messages.success(request, _("The role of %(email)s has been changed") % {"email": membership.user.email})
            return redirect("directory:staff", slug=org.slug)
    return render(
        request,
        "directory/staff_change.html",
        {
            "page_title": (_("Error: ") if form.errors else "") + _("Change the role of %(email)s") % {"email": membership.user.email},
            "org": org,
            "membership": membership,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    org = selectors.organisation_get_for_staff_management(user=signed_in_actor(request), slug=slug)
    if request.method == "POST":
        try:
            removed = services.membership_remove(
                actor=signed_in_actor(request), organisation=org, membership_id=membership_id
            )
        except ValidationError as error:
            membership = selectors.membership_get_for_management(organisation=org, membership_id=membership_id)
            return render(
                request,
                "directory/staff_remove.html",
                {"page_title": _("Error: ") + _("Remove %(email)s") % {"email": membership.user.email},
                 "org": org, "membership": membership, "problem": error.messages[0]},
                status=409,
            )
        if removed:
            messages.success(request, _("They have been removed from the staff of %(name)s") % {"name": org.name})
        else:
            messages.info(request, _("They were no longer on the staff of %(name)s") % {"name": org.name})
        return redirect("directory:staff", slug=org.slug)
    membership = selectors.membership_get_for_management(organisation=org, membership_id=membership_id)
    return render(
        request,
        "directory/staff_remove.html",
        {"page_title": _("Remove %(email)s") % {"email": membership.user.email}, "org": org,
         "membership": membership, "problem": ""},
    )


# --- Import and export (site administrators) --------------------------------------------------

def _require_site_admin(request: HttpRequest) -> None:
    if not request.user.has_perm("directory.import_directory"):
        raise PermissionDenied(_("Only site administrators can import and export the directory."))


@login_required
@require_http_methods(["GET", "POST"])
def directory_import_page(request: HttpRequest) -> HttpResponse:
    _require_site_admin(request)
    form = (
        DirectoryImportForm(request.POST, request.FILES) if request.method == "POST" else DirectoryImportForm()
    )
    report = None
    if request.method == "POST" and form.is_valid():
        report = directory_import(
            data=form.data_bytes(), skip_errors=form.cleaned_data["skip_errors"],
            dry_run=form.cleaned_data["dry_run"], actor=signed_in_actor(request),
        )
    status = 400 if form.errors else 200
    return render(
        request,
        "directory/import.html",
        {
            "page_title": (_("Error: ") if form.errors else "") + _("Import organisations and services"),
            "form": form,
            "report": report,
            "errors_shown": report.errors[:MAX_ERRORS_SHOWN] if report else [],
            "errors_hidden": max(0, len(report.errors) - MAX_ERRORS_SHOWN) if report else 0,
            "max_size": filesizeformat(settings.UPLOAD_MAX_BYTES),
        },
        status=status,
    )


@login_required
def directory_export_download(request: HttpRequest) -> StreamingHttpResponse:
    _require_site_admin(request)
    response = StreamingHttpResponse(directory_export_lines(), content_type="text/csv; charset=utf-8")
    filename = f"directory-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@conditional_on([DIRECTORY_PAGES])
def directory_open_data_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The whole public directory (areas, organisations, services) as open data, for anyone."""
    response = StreamingHttpResponse(directory_open_data_lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="directory.csv"'
    return response
