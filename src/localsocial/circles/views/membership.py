"""Circles, joining, a member's own page, card payments and gifts from family and friends.

Every circles page of this part is listed in ``urlpatterns`` below, the coordinators' pages
included (from ``views/coordinate.py``), so circles/urls.py needs only this module.  A circle's
address is its short name; words other circles pages use (``statement``…) are never taken for
one, whatever order the patterns are joined in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, re_path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts import ratelimits
from localsocial.accounts.actors import actor_or_none, signed_in_actor
from localsocial.accounts.rules import is_site_admin
from localsocial.circles.forms.membership import (
    CardPaymentForm,
    GiftForm,
    JoinForm,
    MemberDetailsForm,
    money,
    new_key,
    tokens,
)
from localsocial.circles.models import Member, Payment, PaymentPurpose, PaymentStatus
from localsocial.circles.page_groups import CIRCLE_PAGES
from localsocial.circles.selectors.membership import (
    circle_get,
    circle_get_public,
    circles_public_list,
    member_get_own,
    membership_page,
    payment_get_by_reference,
)
from localsocial.circles.services.circles import SLUG_URL
from localsocial.circles.services.membership import (
    member_details_update,
    member_gift_code,
    member_id_from_gift_code,
    member_join,
)
from localsocial.circles.services.payments import (
    payment_card_confirm,
    payment_card_redirect_url,
    payment_card_start,
)
from localsocial.circles.views import coordinate
from localsocial.core.email import site_url
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.page_cache import public_page
from localsocial.core.views import rate_limited
from localsocial.directory.page_groups import DIRECTORY_PAGES

SLUG = SLUG_URL


def gift_rate() -> str:
    return ratelimits.rate("CIRCLES_GIFT_RATE", "10/h")


def _common(**extra: Any) -> dict[str, Any]:
    return {"money": money, "tokens": tokens, **extra}


def _sign_in_links(request: HttpRequest) -> dict[str, str]:
    query = urlencode({"next": request.get_full_path()})
    return {"sign_in_url": f"{reverse('accounts:sign_in')}?{query}",
            "sign_up_url": f"{reverse('accounts:sign_up')}?{query}"}


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


# --- Public pages ------------------------------------------------------------------------------

@public_page([CIRCLE_PAGES, DIRECTORY_PAGES])
def index(request: HttpRequest) -> HttpResponse:
    may_start = request.user.is_authenticated and is_site_admin(request.user)
    return render(request, "circles/index.html", _common(
        page_title=_("Circles"), circles=circles_public_list(), may_start_circle=may_start,
    ))


@public_page([CIRCLE_PAGES, DIRECTORY_PAGES])
def circle_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = circle_get_public(slug=slug)
    can_coordinate = request.user.is_authenticated and request.user.has_perm("circles.coordinate", page.circle)
    return render(request, "circles/circle.html", _common(
        page_title=page.circle.name, page=page, circle=page.circle, back_href=reverse("circles:index"),
        can_coordinate=can_coordinate,
    ))


# --- Joining -----------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, slug: str) -> HttpResponse:
    circle = circle_get(slug=slug)
    circle_url = reverse("circles:circle", kwargs={"slug": slug})
    if not request.user.is_authenticated:
        return render(request, "circles/join_sign_in.html", _common(
            page_title=_("Sign in to join %(circle)s") % {"circle": circle.name}, circle=circle,
            back_href=circle_url, **_sign_in_links(request),
        ))
    member = member_get_own(circle=circle, user=request.user)
    if member is not None:
        return render(request, "circles/join_already.html", _common(
            page_title=_("You are already a member"), circle=circle, member=member, back_href=circle_url,
        ))
    if not circle.is_active:
        return render(request, "circles/join_closed.html", _common(
            page_title=_("%(circle)s is not taking new members") % {"circle": circle.name}, circle=circle,
            back_href=circle_url,
        ))
    if request.method == "POST":
        form = JoinForm(request.POST, circle=circle)
        if form.is_valid():
            try:
                member, created = member_join(
                    circle=circle, user=signed_in_actor(request), details=form.details(),
                    eligibility_confirmed=bool(form.cleaned_data.get("eligibility_confirmed")) or not circle.minimum_age,
                    terms_agreed=bool(form.cleaned_data.get("terms_agreed")),
                )
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                if created:
                    messages.success(request, _("Welcome to %(circle)s. You are now a member.") % {"circle": circle.name})
                return redirect("circles:membership", slug=slug)
    else:
        form = JoinForm(circle=circle, initial={"display_name": request.user.display_name})  # type: ignore[union-attr]
    return render(request, "circles/join.html", _common(
        page_title=page_title(_("Join %(circle)s") % {"circle": circle.name}, form), circle=circle, form=form,
        back_href=circle_url,
    ))


# --- A member's own page -----------------------------------------------------------------------

def _own_member(request: HttpRequest, slug: str) -> Member | None:
    circle = circle_get(slug=slug)
    return member_get_own(circle=circle, user=request.user)


@never_cache
@login_required
def membership(request: HttpRequest, slug: str) -> HttpResponse:
    member = _own_member(request, slug)
    if member is None:
        circle = circle_get(slug=slug)
        return render(request, "circles/not_member.html", _common(
            page_title=_("You are not a member of %(circle)s") % {"circle": circle.name}, circle=circle,
        ), status=404)
    page = membership_page(member=member)
    return _private(render(request, "circles/membership.html", _common(
        page_title=_("Your membership of %(circle)s") % {"circle": member.circle.name}, page=page, member=member,
        circle=member.circle, **_gift(member), fee_form=CardPaymentForm(initial={"idempotency_key": new_key()}),
        bundle_form=CardPaymentForm(initial={"idempotency_key": new_key()}, bundles=page.bundles),
        statement_url=_statement_url(),
    )))


def _gift(member: Member) -> dict[str, str]:
    code = member_gift_code(member=member)
    path = reverse("circles:gift", kwargs={"slug": member.circle.slug})
    return {"gift_code": code, "gift_url": site_url(f"{path}?{urlencode({'code': code})}")}


def _statement_url() -> str:
    try:
        return reverse("circles:my_statement")
    except NoReverseMatch:  # the statement is another part's page; without it, no link
        return ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def membership_details(request: HttpRequest, slug: str) -> HttpResponse:
    member = _own_member(request, slug)
    if member is None:
        raise Http404(_("You are not a member of this circle."))
    back = reverse("circles:membership", kwargs={"slug": slug})
    if request.method == "POST":
        form = MemberDetailsForm(request.POST)
        if form.is_valid():
            try:
                member_details_update(member=member, actor=signed_in_actor(request), details=form.details())
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(request, _("Your details are saved."))
                return redirect(back)
    else:
        form = MemberDetailsForm(initial=MemberDetailsForm.initial_from(member))
    return _private(render(request, "circles/details.html", _common(
        page_title=page_title(_("Change your details"), form), heading=_("Change your details"), form=form,
        circle=member.circle, back_href=back,
    )))


@login_required
@require_POST
def membership_pay(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a card payment for the member's fee (``purpose=fee``) or a bundle (``tokens``)."""
    member = _own_member(request, slug)
    if member is None:
        raise Http404(_("You are not a member of this circle."))
    purpose = request.POST.get("purpose")
    page = membership_page(member=member)
    form = CardPaymentForm(request.POST, bundles=page.bundles)
    error = ""
    if purpose not in {PaymentPurpose.FEE, PaymentPurpose.TOKENS}:
        error = _("Choose what you want to pay for")
    elif not form.is_valid():
        error = _("The form was missing a part. Try again.")
    elif purpose == PaymentPurpose.TOKENS and form.chosen_bundle() is None:
        error = _("Choose a bundle of tokens")
    else:
        try:
            payment = payment_card_start(
                member=member, purpose=purpose, bundle=form.chosen_bundle(), actor=signed_in_actor(request),
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if payment.status != PaymentStatus.PENDING:
                return redirect("circles:card_done", slug=slug, reference=payment.provider_reference)
            return redirect(payment_card_redirect_url(payment=payment))
    return _private(render(request, "circles/membership.html", _common(
        page_title=_("Error: ") + _("Your membership of %(circle)s") % {"circle": member.circle.name}, page=page,
        member=member, circle=member.circle, **_gift(member), pay_error=error,
        pay_error_anchor="buy" if purpose == PaymentPurpose.TOKENS else "fee",
        fee_form=CardPaymentForm(initial={"idempotency_key": new_key()}),
        bundle_form=CardPaymentForm(initial={"idempotency_key": new_key()}, bundles=page.bundles),
        statement_url=_statement_url(),
    ), status=400))


# --- The test payment provider's page, and the result ----------------------------------------

def _payment_for(payment: Payment) -> str:
    if payment.purpose == PaymentPurpose.FEE:
        return _("The yearly membership fee of %(circle)s") % {"circle": payment.circle.name}
    assert payment.bundle is not None
    if payment.purpose == PaymentPurpose.GIFT:
        return _("A gift of %(tokens)s tokens (%(bundle)s)") % {"tokens": tokens(payment.bundle.quarters),
                                                                "bundle": payment.bundle.name}
    return _("%(tokens)s tokens (%(bundle)s)") % {"tokens": tokens(payment.bundle.quarters), "bundle": payment.bundle.name}


@never_cache
@require_http_methods(["GET", "POST"])
def card_page(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """The test provider's "hosted payment page".  A real provider's page is on its own site;
    this one lets developers, demos and tests pay or decline without a card or a network."""
    payment = payment_get_by_reference(slug=slug, reference=reference)
    if request.method == "POST" or payment.status != PaymentStatus.PENDING:
        if payment.status == PaymentStatus.PENDING:
            payment_card_confirm(reference=reference, outcome={"result": str(request.POST.get("result", ""))},
                                 actor=actor_or_none(request))
        return redirect("circles:card_done", slug=slug, reference=reference)
    return _private(render(request, "circles/card_page.html", _common(
        page_title=_("Pay by card"), payment=payment, what=_payment_for(payment),
    )))


@never_cache
def card_done(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    payment = payment_get_by_reference(slug=slug, reference=reference)
    paid = payment.status == PaymentStatus.SUCCEEDED
    is_member = request.user.is_authenticated and payment.member.user_id == request.user.pk
    title = _("Payment received") if paid else (
        _("Payment not taken") if payment.status == PaymentStatus.FAILED else _("Waiting for your payment"))
    return _private(render(request, "circles/card_done.html", _common(
        page_title=title, payment=payment, paid=paid, what=_payment_for(payment), is_member=is_member,
        circle=payment.circle,
    )))


# --- Gifts from family and friends ---------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def gift(request: HttpRequest, slug: str) -> HttpResponse:
    page = circle_get_public(slug=slug)
    circle = page.circle
    if request.method == "POST":
        form = GiftForm(request.POST, bundles=page.bundles)
        if ratelimits.attempt_limited(request, group="circles.gift", keys=[ratelimits.ip_key()], rate_=gift_rate()):
            return rate_limited(request)
        if form.is_valid() and not form.honeypot_filled():
            member_id = member_id_from_gift_code(code=form.cleaned_data["gift_code"])
            member = (
                Member.objects.select_related("circle", "user").filter(circle=circle, pk=member_id).first()
                if member_id else None
            )
            if member is None:
                form.add_error("gift_code", _("Check the gift code: it does not match a member of %(circle)s") % {
                    "circle": circle.name})
            else:
                try:
                    payment = payment_card_start(
                        member=member, purpose=PaymentPurpose.GIFT, bundle=form.chosen_bundle(),
                        idempotency_key=form.cleaned_data["idempotency_key"], actor=actor_or_none(request),
                        payer_name=form.cleaned_data["payer_name"], payer_email=form.cleaned_data["payer_email"],
                    )
                except ValidationError as error:
                    form_errors_apply(form, error)
                else:
                    if payment.status != PaymentStatus.PENDING:
                        return redirect("circles:card_done", slug=slug, reference=payment.provider_reference)
                    return redirect(payment_card_redirect_url(payment=payment))
        elif form.honeypot_filled():
            form.add_error(None, _("Leave the last box empty"))
    else:
        # Members can share a link with their code in it (from their membership page).
        code = " ".join(request.GET.get("code", "").split())[:40]
        form = GiftForm(bundles=page.bundles, initial={"idempotency_key": new_key(), "gift_code": code})
    return render(request, "circles/gift.html", _common(
        page_title=page_title(_("Give time tokens to a member of %(circle)s") % {"circle": circle.name}, form),
        circle=circle, page=page, form=form, back_href=reverse("circles:circle", kwargs={"slug": slug}),
    ))


urlpatterns: list[URLPattern] = [
    re_path(r"^$", index, name="index"),
    re_path(rf"^{SLUG}/$", circle_page, name="circle"),
    re_path(rf"^{SLUG}/join/$", join, name="join"),
    re_path(rf"^{SLUG}/membership/$", membership, name="membership"),
    re_path(rf"^{SLUG}/membership/details/$", membership_details, name="membership_details"),
    re_path(rf"^{SLUG}/membership/pay/$", membership_pay, name="membership_pay"),
    re_path(rf"^{SLUG}/pay/(?P<reference>[-\w]+)/$", card_page, name="card_page"),
    re_path(rf"^{SLUG}/pay/(?P<reference>[-\w]+)/done/$", card_done, name="card_done"),
    re_path(rf"^{SLUG}/gift/$", gift, name="gift"),
    *coordinate.urlpatterns,
]
