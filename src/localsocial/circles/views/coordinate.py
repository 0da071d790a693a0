"""The coordinators' pages of a circle: members (list, detail, join someone up, act for them),
payments, gifts and tokens granted, renewals to phone or write about, and the circle's
settings, bundles, partners and coordinators; and the site administrators' page to start a
new circle.

Every page fetches the circle and authorises together (``circle_get_for_coordinator``): a
coordinator of another circle gets 403, an unknown circle or member 404.  Coordinators hold
members' personal details, so, like every staff page, these need two-factor sign-in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, re_path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.accounts.rules import is_site_admin
from localsocial.circles.forms.coordinate import (
    BundleForm,
    CircleNewForm,
    CircleSettingsForm,
    CoordinatorAddForm,
    GiftRecordForm,
    GrantForm,
    MemberSearchForm,
    PaymentRecordForm,
)
from localsocial.circles.forms.membership import (
    AssistedJoinForm,
    MemberDetailsForm,
    money,
    new_key,
    tokens,
)
from localsocial.circles.models import (
    Circle,
    CircleCoordinator,
    MemberStatus,
    PaymentPurpose,
    TokenBundle,
)
from localsocial.circles.selectors import membership as selectors
from localsocial.circles.services import circles as circle_services
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.services.membership import (
    member_details_update,
    member_gift_code,
    member_join_assisted,
    member_tokens_grant,
)
from localsocial.circles.services.payments import payment_record
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.pagination import InvalidCursorError
from localsocial.directory.models import Area, Organisation

View = Callable[..., HttpResponse]


def coordinator_page(view: View) -> View:
    """Sign-in, the circle, ``circles.coordinate`` on it (403 otherwise).  Two-factor is the
    site-wide middleware's: coordinators are staff (``user_requires_two_factor``), so an
    unverified coordinator never reaches this view."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, **kwargs: Any) -> HttpResponse:
        circle = selectors.circle_get_for_coordinator(user=signed_in_actor(request), slug=slug)
        # The patterns allow digits only, so these are whole numbers.
        ids = {name: int(value) if name.endswith("_id") else value for name, value in kwargs.items()}
        response = view(request, circle, **ids)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def _context(circle: Circle, **extra: Any) -> dict[str, Any]:
    return {"circle": circle, "money": money, "tokens": tokens, "statuses": MemberStatus, **extra}


def _member_url(circle: Circle, member_id: int) -> str:
    return reverse("circles:coordinate_member", kwargs={"slug": circle.slug, "member_id": member_id})


# --- Members -------------------------------------------------------------------------------------

@coordinator_page
def members(request: HttpRequest, circle: Circle) -> HttpResponse:
    search = MemberSearchForm(request.GET or None)
    query = status = ""
    if search.is_valid():
        query, status = search.cleaned_data["q"], search.cleaned_data["status"]
    try:
        page = selectors.members_for_coordinator(
            circle=circle, query=query, status=status, cursor=request.GET.get("cursor") or None,
            page_size=settings.PAGE_SIZE,
        )
    except InvalidCursorError as error:
        raise Http404 from error
    return render(request, "circles/coordinate/members.html", _context(
        circle, page_title=_("Members of %(circle)s") % {"circle": circle.name}, search=search, page=page,
        query=query, status=status,
        pagination=page.govuk_params(request, landmark_label=_("Pages of members")),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def member_new(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        form = AssistedJoinForm(request.POST, circle=circle)
        if form.is_valid():
            try:
                member = member_join_assisted(
                    circle=circle, actor=signed_in_actor(request), details=form.details(), email=form.cleaned_data["email"],
                    eligibility_confirmed=bool(form.cleaned_data.get("eligibility_confirmed")) or not circle.minimum_age,
                    consent=form.cleaned_data["consent"],
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("%(name)s is now a member.") % {"name": member.display_name})
                return redirect(_member_url(circle, member.pk))
    else:
        form = AssistedJoinForm(circle=circle)
    title = _("Join someone up")
    return render(request, "circles/coordinate/member_new.html", _context(
        circle, page_title=page_title(title, form), heading=title, form=form,
        back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    ))


@coordinator_page
def member_detail(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    detail = selectors.member_get_for_coordinator(circle=circle, member_id=member_id)
    return render(request, "circles/coordinate/member.html", _context(
        circle, page_title=detail.member.display_name, detail=detail, member=detail.member,
        gift_code=member_gift_code(member=detail.member),
        back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def member_details(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = selectors.member_in_circle(circle=circle, member_id=member_id)
    if request.method == "POST":
        form = MemberDetailsForm(request.POST)
        if form.is_valid():
            try:
                member_details_update(member=member, actor=signed_in_actor(request), details=form.details())
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("The details are saved."))
                return redirect(_member_url(circle, member.pk))
    else:
        form = MemberDetailsForm(initial=MemberDetailsForm.initial_from(member))
    title = _("Change %(name)s's details") % {"name": member.display_name}
    return render(request, "circles/details.html", _context(
        circle, page_title=page_title(title, form), heading=title, form=form, member=member,
        acting_for=member, back_href=_member_url(circle, member.pk),
    ))


def _form_page(request: HttpRequest, circle: Circle, *, template: str, title: str, form: Any, **extra: Any) -> HttpResponse:
    return render(request, template, _context(circle, page_title=page_title(title, form), heading=title, form=form, **extra))


@coordinator_page
@require_http_methods(["GET", "POST"])
def payment_new(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    detail = selectors.member_get_for_coordinator(circle=circle, member_id=member_id)
    member = detail.member
    if request.method == "POST":
        form = PaymentRecordForm(request.POST, bundles=detail.bundles)
        if form.is_valid():
            data = form.cleaned_data
            bundle = form.chosen_bundle() if data["purpose"] == PaymentPurpose.TOKENS else None
            amount = data.get("amount")
            if amount is None:
                amount = bundle.price_pence if bundle else _fee_due(detail)
            try:
                _payment, created = payment_record(
                    circle=circle, member=member, actor=signed_in_actor(request), purpose=data["purpose"],
                    method=data["method"],
                    amount_pence=amount, bundle=bundle, reference=data["reference"],
                    idempotency_key=f"record:{data['idempotency_key']}",
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("The payment of %(amount)s is recorded.") % {"amount": money(amount)}
                                 if created else _("This payment was already recorded."))
                return redirect(_member_url(circle, member.pk))
    else:
        initial = {"idempotency_key": new_key(), "purpose": request.GET.get("purpose", "")}
        form = PaymentRecordForm(bundles=detail.bundles, initial=initial)
    return _form_page(request, circle, template="circles/coordinate/payment_new.html",
                      title=_("Record a payment from %(name)s") % {"name": member.display_name}, form=form,
                      member=member, fee_due=_fee_due(detail), back_href=_member_url(circle, member.pk))


def _fee_due(detail: selectors.MemberDetail) -> int:
    current = detail.current_year
    if current is not None and current.payment_id is None:
        return current.fee_pence
    return detail.member.circle.annual_fee_pence


@coordinator_page
@require_http_methods(["GET", "POST"])
def gift_new(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    detail = selectors.member_get_for_coordinator(circle=circle, member_id=member_id)
    member = detail.member
    if request.method == "POST":
        form = GiftRecordForm(request.POST, bundles=detail.bundles)
        if form.is_valid():
            data = form.cleaned_data
            bundle = form.chosen_bundle()
            try:
                _payment, created = payment_record(
                    circle=circle, member=member, actor=signed_in_actor(request), purpose=PaymentPurpose.GIFT,
                    method=data["method"], amount_pence=bundle.price_pence if bundle else 0, bundle=bundle,
                    reference=data["reference"], payer_name=data["payer_name"], payer_email=data["payer_email"],
                    idempotency_key=f"record:{data['idempotency_key']}",
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("The gift from %(name)s is recorded and the tokens are in %(member)s's account.") % {
                    "name": data["payer_name"], "member": member.display_name} if created else _("This gift was already recorded."))
                return redirect(_member_url(circle, member.pk))
    else:
        form = GiftRecordForm(bundles=detail.bundles, initial={"idempotency_key": new_key()})
    return _form_page(request, circle, template="circles/coordinate/form.html",
                      title=_("Record a gift of tokens for %(name)s") % {"name": member.display_name}, form=form,
                      member=member, submit=_("Record the gift"), back_href=_member_url(circle, member.pk))


@coordinator_page
@require_http_methods(["GET", "POST"])
def grant(request: HttpRequest, circle: Circle, member_id: int) -> HttpResponse:
    member = selectors.member_in_circle(circle=circle, member_id=member_id)
    if request.method == "POST":
        form = GrantForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                member_tokens_grant(member=member, actor=signed_in_actor(request), quarters=data["tokens"],
                                    memo=data["memo"], idempotency_key=data["idempotency_key"])
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("%(tokens)s tokens are in %(name)s's account.") % {
                    "tokens": tokens(data["tokens"]), "name": member.display_name})
                return redirect(_member_url(circle, member.pk))
    else:
        form = GrantForm(initial={"idempotency_key": new_key(), "memo": _("Tokens from the circle")})
    return _form_page(request, circle, template="circles/coordinate/form.html",
                      title=_("Give tokens to %(name)s") % {"name": member.display_name}, form=form, member=member,
                      submit=_("Give the tokens"), back_href=_member_url(circle, member.pk))


@coordinator_page
def to_contact(request: HttpRequest, circle: Circle) -> HttpResponse:
    return render(request, "circles/coordinate/to_contact.html", _context(
        circle, page_title=_("Renewals to phone or write about"), rows=selectors.members_to_contact(circle=circle),
        back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    ))


# --- The circle ----------------------------------------------------------------------------------

@coordinator_page
@require_http_methods(["GET", "POST"])
def circle_settings(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        form = CircleSettingsForm(request.POST)
        if form.is_valid():
            try:
                circle_services.circle_settings_update(circle=circle, actor=signed_in_actor(request),
                                                       **form.changes())
            except ValidationError as error:
                form_errors_apply(form, error, {"annual_fee_pence": "annual_fee", "welcome_quarters": "welcome_tokens",
                                                "minimum_balance_quarters": "credit_tokens"})
            else:
                messages.success(request, _("The circle's settings are saved."))
                return redirect("circles:coordinate_settings", slug=circle.slug)
    else:
        form = CircleSettingsForm(initial={
            "description": circle.description, "annual_fee": f"{circle.annual_fee_pence / 100:.2f}",
            "minimum_age": circle.minimum_age, "welcome_tokens": tokens(circle.welcome_quarters),
            "credit_tokens": tokens(-circle.minimum_balance_quarters),
            "renewal_reminder_days": circle.renewal_reminder_days, "is_active": circle.is_active,
        })
    return _form_page(request, circle, template="circles/coordinate/form.html",
                      title=_("Settings of %(circle)s") % {"circle": circle.name}, form=form,
                      submit=_("Save the settings"),
                      back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}))


def _bundle_in(circle: Circle, bundle_id: int) -> TokenBundle:
    bundle = TokenBundle.objects.select_related("circle").filter(circle=circle, pk=bundle_id).first()
    if bundle is None:
        raise Http404(_("There is no such bundle in this circle."))
    return bundle


@coordinator_page
@require_http_methods(["GET", "POST"])
def bundles(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        form = BundleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                circle_services.bundle_save(circle=circle, actor=signed_in_actor(request), name=data["name"],
                                            quarters=data["tokens"], price_pence=data["price"])
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("The bundle is added."))
                return redirect("circles:coordinate_bundles", slug=circle.slug)
    else:
        form = BundleForm()
    return _form_page(request, circle, template="circles/coordinate/bundles.html",
                      title=_("Token bundles"), form=form, bundles=list(circle.bundles.order_by("quarters", "id")),
                      back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}))


@coordinator_page
@require_http_methods(["GET", "POST"])
def bundle_edit(request: HttpRequest, circle: Circle, bundle_id: int) -> HttpResponse:
    bundle = _bundle_in(circle, bundle_id)
    if request.method == "POST":
        form = BundleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                circle_services.bundle_save(circle=circle, actor=signed_in_actor(request), bundle=bundle, name=data["name"],
                                            quarters=data["tokens"], price_pence=data["price"])
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("The bundle is saved."))
                return redirect("circles:coordinate_bundles", slug=circle.slug)
    else:
        form = BundleForm(initial={"name": bundle.name, "tokens": tokens(bundle.quarters),
                                   "price": f"{bundle.price_pence / 100:.2f}"})
    return _form_page(request, circle, template="circles/coordinate/form.html",
                      title=_("Change the bundle %(name)s") % {"name": bundle.name}, form=form,
                      submit=_("Save the bundle"), bundle=bundle,
                      back_href=reverse("circles:coordinate_bundles", kwargs={"slug": circle.slug}))


@coordinator_page
@require_POST
def bundle_on_sale(request: HttpRequest, circle: Circle, bundle_id: int) -> HttpResponse:
    bundle = _bundle_in(circle, bundle_id)
    on_sale = request.POST.get("on_sale") == "1"
    circle_services.bundle_withdraw(bundle=bundle, actor=signed_in_actor(request), on_sale=on_sale)
    messages.success(request, _("%(name)s is on sale again.") % {"name": bundle.name} if on_sale
                     else _("%(name)s is no longer on sale.") % {"name": bundle.name})
    return redirect("circles:coordinate_bundles", slug=circle.slug)


@coordinator_page
@require_http_methods(["GET", "POST"])
def partners(request: HttpRequest, circle: Circle) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("remove"):
            try:
                partner_id = int(request.POST["remove"])
            except ValueError as error:
                raise Http404 from error
            if circle_services.partner_remove(circle=circle, actor=signed_in_actor(request), partner_id=partner_id):
                messages.success(request, _("The partner is removed."))
        else:
            chosen = str(request.POST.get("organisation", ""))
            organisation = Organisation.objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
            if organisation is None:
                messages.error(request, _("Choose an organisation from the list"))
            else:
                circle_services.partner_add(circle=circle, actor=signed_in_actor(request), organisation=organisation)
                messages.success(request, _("%(name)s is now a partner.") % {"name": organisation.name})
        return redirect("circles:coordinate_partners", slug=circle.slug)
    query = " ".join(request.GET.get("q", "").split())[:100]
    return render(request, "circles/coordinate/partners.html", _context(
        circle, page_title=_("Partner organisations"), query=query,
        partners=list(circle.partners.select_related("organisation").order_by("organisation__name", "id")),
        choices=selectors.partner_choices(circle=circle, query=query) if query else [],
        back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    ))


@coordinator_page
@require_http_methods(["GET", "POST"])
def coordinators(request: HttpRequest, circle: Circle) -> HttpResponse:
    form = CoordinatorAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            coordinator, created = circle_services.coordinator_add_by_email(
                circle=circle, actor=signed_in_actor(request), email=form.cleaned_data["email"])
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            name = coordinator.user.public_name
            messages.success(request, _(
                "%(name)s is now a coordinator. We have emailed them: they must set up two-step verification "
                "before they can use these pages.") % {"name": name} if created
                else _("%(name)s is already a coordinator.") % {"name": name})
            return redirect("circles:coordinate_coordinators", slug=circle.slug)
    return render(request, "circles/coordinate/coordinators.html", _context(
        circle, page_title=page_title(_("Coordinators of %(circle)s") % {"circle": circle.name}, form),
        coordinators=selectors.coordinators_of(circle=circle), form=form,
        back_href=reverse("circles:coordinate_members", kwargs={"slug": circle.slug}),
    ), status=400 if form.errors else 200)


@coordinator_page
@require_http_methods(["GET", "POST"])
def coordinator_remove(request: HttpRequest, circle: Circle, coordinator_id: int) -> HttpResponse:
    coordinator = CircleCoordinator.objects.select_related("user").filter(circle=circle, pk=coordinator_id).first()
    if coordinator is None:
        raise Http404(_("This person is not a coordinator of this circle."))
    is_self = coordinator.user_id == request.user.pk
    error = ""
    if request.method == "POST":
        try:
            circle_services.coordinator_remove(circle=circle, actor=signed_in_actor(request), coordinator_id=coordinator.pk)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(request, _("You are no longer a coordinator of %(circle)s.") % {"circle": circle.name}
                             if is_self else _("%(name)s is no longer a coordinator.") % {"name": coordinator.user.public_name})
            if is_self and not request.user.has_perm("circles.coordinate", circle):
                return redirect("circles:circle", slug=circle.slug)
            return redirect("circles:coordinate_coordinators", slug=circle.slug)
    title = (_("Stop being a coordinator of %(circle)s?") % {"circle": circle.name} if is_self
             else _("Remove %(name)s as a coordinator?") % {"name": coordinator.user.public_name})
    return render(request, "circles/coordinate/coordinator_remove.html", _context(
        circle, page_title=(_("Error: ") + title) if error else title, heading=title, coordinator=coordinator,
        is_self=is_self, error=error,
        back_href=reverse("circles:coordinate_coordinators", kwargs={"slug": circle.slug}),
    ), status=400 if error else 200)


# --- A new circle (site administrators) ----------------------------------------------------------

@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def circle_new(request: HttpRequest) -> HttpResponse:
    """Site administrators start a circle here; anyone else gets 403.  Like every staff page it
    is behind two-step verification (the site-wide middleware)."""
    if not is_site_admin(request.user):
        raise PermissionDenied(_("Only site administrators can start a circle."))
    areas = list(Area.objects.order_by("name", "id"))
    form = CircleNewForm(request.POST or None, areas=areas)
    if request.method == "POST" and form.is_valid():
        try:
            circle = circle_services.circle_create(
                actor=signed_in_actor(request), details=form.details(),
                coordinator_email=form.cleaned_data["coordinator_email"])
        except ValidationError as error:
            form_errors_apply(form, error, {"annual_fee_pence": "annual_fee"})
        else:
            messages.success(request, _(
                "%(circle)s is started. Check its settings, then add token bundles.") % {"circle": circle.name})
            return redirect("circles:coordinate_settings", slug=circle.slug)
    title = _("Start a new circle")
    return render(request, "circles/circle_new.html", {
        "page_title": page_title(title, form), "heading": title, "form": form,
        "back_href": reverse("circles:index"),
    }, status=400 if form.errors else 200)


S = SLUG_URL
M = r"members/(?P<member_id>[0-9]+)"
B = r"bundles/(?P<bundle_id>[0-9]+)"
urlpatterns: list[URLPattern] = [
    re_path(rf"^{S}/coordinate/$", members, name="coordinate_members"),
    re_path(rf"^{S}/coordinate/members/new/$", member_new, name="coordinate_member_new"),
    re_path(rf"^{S}/coordinate/{M}/$", member_detail, name="coordinate_member"),
    re_path(rf"^{S}/coordinate/{M}/details/$", member_details, name="coordinate_member_details"),
    re_path(rf"^{S}/coordinate/{M}/payments/new/$", payment_new, name="coordinate_payment_new"),
    re_path(rf"^{S}/coordinate/{M}/gifts/new/$", gift_new, name="coordinate_gift_new"),
    re_path(rf"^{S}/coordinate/{M}/grant/$", grant, name="coordinate_grant"),
    re_path(rf"^{S}/coordinate/to-contact/$", to_contact, name="coordinate_to_contact"),
    re_path(rf"^{S}/coordinate/settings/$", circle_settings, name="coordinate_settings"),
    re_path(rf"^{S}/coordinate/bundles/$", bundles, name="coordinate_bundles"),
    re_path(rf"^{S}/coordinate/{B}/$", bundle_edit, name="coordinate_bundle"),
    re_path(rf"^{S}/coordinate/{B}/on-sale/$", bundle_on_sale, name="coordinate_bundle_on_sale"),
    re_path(rf"^{S}/coordinate/partners/$", partners, name="coordinate_partners"),
    re_path(rf"^{S}/coordinate/coordinators/$", coordinators, name="coordinate_coordinators"),
    re_path(rf"^{S}/coordinate/coordinators/(?P<coordinator_id>[0-9]+)/remove/$", coordinator_remove,
            name="coordinate_coordinator_remove"),
    re_path(r"^new/$", circle_new, name="circle_new"),
]
