"""Views: responding.  Responders answer stories and edit within the window; moderators
publish or reject responses and authors' replies; the author replies, confirms changes and
rates from their private link; anyone rates a response as helpful; organisation
administrators keep their story settings and response templates."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts import ratelimits
from localsocial.accounts.actors import actor_or_none, signed_in_actor
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.pagination import InvalidCursorError
from localsocial.core.views import rate_limited
from localsocial.stories.forms.responses import (
    AuthorReplyForm,
    ChangeConfirmForm,
    OrganisationSettingsForm,
    RespondForm,
    ResponseRejectForm,
    ResponseTemplateForm,
    ResponseTextForm,
    TemplatePickForm,
)
from localsocial.stories.models import Response, ResponseStatus, Story, StoryStatus
from localsocial.stories.selectors import responses as selectors
from localsocial.stories.services import responses as services
from localsocial.stories.services.common import person_key
from localsocial.stories.views.reading import PERSON_COOKIE, PERSON_COOKIE_AGE, PERSON_COOKIE_SALT


def anonymous_id_get(request: HttpRequest) -> str | None:
    """The visitor's anonymous id: the same signed cookie as "me too" on the story page (see
    stories/views/reading.py), so that one person is one person for every reaction."""
    value = request.get_signed_cookie(PERSON_COOKIE, default=None, salt=PERSON_COOKIE_SALT)
    return value if value and len(value) <= 64 else None


def anonymous_id_get_or_new(request: HttpRequest) -> tuple[str, bool]:
    """``(id, is_new)``: the visitor's anonymous id, or a new one to set with
    ``anonymous_id_set`` on the response."""
    existing = anonymous_id_get(request)
    return (existing, False) if existing else (secrets.token_urlsafe(18), True)


def anonymous_id_set(response: HttpResponse, value: str) -> None:
    response.set_signed_cookie(
        PERSON_COOKIE, value, salt=PERSON_COOKIE_SALT, max_age=PERSON_COOKIE_AGE,
        httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
    )


def _story_url(story_id: int, response_id: int | None = None) -> str:
    url = reverse("stories:story", kwargs={"pk": story_id})
    return f"{url}#response-{response_id}" if response_id else url


def _private_url(secret: str, response_id: int | None = None) -> str:
    url = reverse("stories:mine", kwargs={"secret": secret})
    return f"{url}#response-{response_id}" if response_id else url


def _text_initial(response: Response) -> dict[str, str]:
    initial = {"body": response.body, "change": response.change}
    if response.change:
        initial[ResponseTextForm().description_field(response.change)] = response.change_description
    return initial


# --- Responding -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    actor = signed_in_actor(request)
    story, memberships = selectors.story_get_for_responding(user=signed_in_actor(request), story_id=pk)
    by_org = {m.organisation_id: m for m in memberships}
    choices = [(m.organisation_id, m.organisation.name) for m in memberships]
    source = request.POST if request.method == "POST" else request.GET
    try:
        chosen_id = int(source.get("organisation", ""))
    except ValueError:
        chosen_id = memberships[0].organisation_id
    membership = by_org.get(chosen_id, memberships[0])
    organisation = membership.organisation
    templates = selectors.response_templates_for(organisation=organisation)
    picker = TemplatePickForm(request.GET or None, templates=[(t.pk, t.title) for t in templates])
    initial: dict[str, Any] = {"organisation": organisation.pk, "change": ""}
    if request.method == "GET" and picker.is_bound and picker.is_valid() and picker.cleaned_data["template"]:
        template = next(t for t in templates if t.pk == picker.cleaned_data["template"])
        initial["body"] = services.response_template_fill(
            text=template.body, story=story, organisation=organisation, user=actor,
            job_title=membership.job_title,
        )
    form = RespondForm(request.POST if request.method == "POST" else None, organisations=choices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            response = services.response_create(
                story=story, actor=actor, organisation=by_org[form.cleaned_data["organisation"]].organisation,
                body=form.cleaned_data["body"], change=form.cleaned_data["change"],
                change_description=form.cleaned_data["change_description"],
            )
        except ValidationError as error:
            form_errors_apply(form, error, form.service_error_field)
        else:
            if response.status == ResponseStatus.PUBLISHED:
                messages.success(request, _("Your response has been published"))
            else:
                messages.success(
                    request, _("Your response has been sent to a moderator, who will check it before it is published")
                )
            return redirect(_story_url(story.pk, response.pk))
    return render(
        request,
        "stories/responses/respond.html",
        {
            "page_title": page_title(_("Respond to “%(title)s”") % {"title": story.title}, form),
            "back_href": _story_url(story.pk),
            "story": story,
            "services": selectors.story_services_for_display(story=story),
            "form": form,
            "picker": picker,
            "templates": templates,
            "organisation": organisation,
            "several_organisations": len(choices) > 1,
            "trusted": services.responder_is_trusted(user=actor),
            "trusted_after": settings.STORIES_RESPONDER_TRUSTED_AFTER,
            "edit_minutes": settings.STORIES_RESPONSE_EDIT_MINUTES,
            # The conversation so far, without its own "Respond" button: this is that page.
            "thread": {**selectors.story_thread(story=story, user=request.user), "can_respond": False},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_edit(request: HttpRequest, response_id: int) -> HttpResponse:
    response = selectors.response_get_for_edit(user=signed_in_actor(request), response_id=response_id)
    context: dict[str, Any] = {
        "response": response,
        "story": response.story,
        "back_href": _story_url(response.story_id, response.pk),
        "edit_minutes": settings.STORIES_RESPONSE_EDIT_MINUTES,
    }
    if not selectors.response_can_edit(response=response, user=request.user):
        return _edit_closed(request, context)
    form = ResponseTextForm(request.POST if request.method == "POST" else None, initial=_text_initial(response))
    if request.method == "POST" and form.is_valid():
        was_published = response.status == ResponseStatus.PUBLISHED
        try:
            edited = services.response_edit(
                response_id=response.pk, actor=signed_in_actor(request), body=form.cleaned_data["body"],
                change=form.cleaned_data["change"], change_description=form.cleaned_data["change_description"],
            )
        except services.ResponseEditClosed:
            return _edit_closed(request, context)
        except ValidationError as error:
            form_errors_apply(form, error, form.service_error_field)
        else:
            if was_published and edited.status == ResponseStatus.PENDING:
                messages.success(
                    request,
                    _("Your response has been changed. Because it now describes a change, a moderator will check "
                      "it before it is published again"),
                )
            else:
                messages.success(request, _("Your response has been changed"))
            return redirect(_story_url(response.story_id, response.pk))
    context.update(
        page_title=page_title(_("Change your response"), form),
        form=form,
        deadline=selectors.response_edit_deadline(response),
    )
    return render(request, "stories/responses/edit.html", context)


def _edit_closed(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["page_title"] = _("You can no longer change this response")
    return render(
        request, "stories/responses/edit_closed.html", context, status=403 if request.method == "POST" else 200
    )


# --- Moderation -------------------------------------------------------------------------------


@login_required
def responses_moderation_queue(request: HttpRequest) -> HttpResponse:
    try:
        page = selectors.response_moderation_queue(user=signed_in_actor(request), cursor=request.GET.get("cursor") or None)
    except InvalidCursorError as exc:
        raise Http404 from exc
    return render(
        request,
        "stories/responses/moderation_queue.html",
        {
            "page_title": _("Responses waiting for moderation"),
            "page": page,
            "pagination": page.govuk_params(request, landmark_label=_("Responses waiting pages")),
            "trusted_after": settings.STORIES_RESPONDER_TRUSTED_AFTER,
        },
    )


@login_required
@require_POST
def response_publish(request: HttpRequest, response_id: int) -> HttpResponse:
    response = selectors.response_get_for_moderation(user=signed_in_actor(request), response_id=response_id)
    if services.response_publish(response_id=response.pk, actor=signed_in_actor(request)):
        messages.success(
            request, _("The response to “%(title)s” has been published") % {"title": response.story.title}
        )
    else:
        messages.info(request, _("That response had already been dealt with"))
    return redirect("stories:responses_moderation_queue")


@login_required
@require_http_methods(["GET", "POST"])
def response_reject(request: HttpRequest, response_id: int) -> HttpResponse:
    response = selectors.response_get_for_moderation(user=signed_in_actor(request), response_id=response_id)
    if response.status != ResponseStatus.PENDING:
        messages.info(request, _("That response had already been dealt with"))
        return redirect("stories:responses_moderation_queue")
    form = ResponseRejectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            rejected = services.response_reject(
                response_id=response.pk, actor=signed_in_actor(request), reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            if rejected:
                messages.success(request, _("The response has not been published. Its writer has been emailed the reason"))
            else:
                messages.info(request, _("That response had already been dealt with"))
            return redirect("stories:responses_moderation_queue")
    return render(
        request,
        "stories/responses/reject.html",
        {
            "page_title": page_title(_("Do not publish this response"), form),
            "back_href": reverse("stories:responses_moderation_queue"),
            "item": response,
            "held_because": selectors.response_held_because(response),
            "form": form,
        },
    )


# --- The author -------------------------------------------------------------------------------


def _author_story(secret: str) -> Story:
    story = services.story_for_author_token(token=secret) if len(secret) <= 200 else None
    if story is None:
        raise Http404(_("This link does not work. It may be mistyped, or replaced by a newer link."))
    return story


@require_http_methods(["GET", "POST"])
def response_author_reply(request: HttpRequest, secret: str) -> HttpResponse:
    story = _author_story(secret)
    if story.status != StoryStatus.PUBLISHED:
        raise Http404(_("You can reply once your story is published."))
    form = AuthorReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if ratelimits.attempt_limited(
            request, group="stories.author-reply",
            keys=[ratelimits.ip_key(), ratelimits.value_key(f"story:{story.pk}")],
            rate_=ratelimits.rate("STORIES_SUBMIT_RATE", "5/h"),
        ):
            return rate_limited(request)
        if form.is_valid():
            try:
                services.author_reply_create(story=story, body=form.cleaned_data["body"])
            except ValidationError as error:
                form_errors_apply(form, error)
            else:
                messages.success(
                    request, _("Thank you. A moderator will check your reply, then it will be published under your story")
                )
                return redirect(_private_url(secret))
    return render(
        request,
        "stories/responses/author_reply.html",
        {
            "page_title": page_title(_("Reply to the responses to your story"), form),
            "back_href": _private_url(secret),
            "story": story,
            "secret": secret,
            "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def response_change_confirm(request: HttpRequest, secret: str, response_id: int) -> HttpResponse:
    story = _author_story(secret)
    response = (
        Response.objects.select_related("organisation")
        .filter(pk=response_id, story=story, status=ResponseStatus.PUBLISHED, is_author_reply=False)
        .exclude(change="")
        .first()
    )
    if response is None:
        raise Http404(_("There is no change to confirm at this address."))
    answered = {True: "yes", False: "no", None: None}
    initial = {"happened": answered[response.author_confirmed], "note": response.author_confirmation_note}
    form = ChangeConfirmForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_confirm(
                response_id=response.pk, story_id=story.pk, happened=form.cleaned_data["happened"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("Thank you. Your answer is shown with the response under your story"))
            return redirect(_private_url(secret, response.pk))
    return render(
        request,
        "stories/responses/change_confirm.html",
        {
            "page_title": page_title(_("Did this change happen?"), form),
            "back_href": _private_url(secret, response.pk),
            "story": story,
            "response": response,
            "secret": secret,
            "form": form,
        },
    )


# --- Helpful ratings --------------------------------------------------------------------------


@require_POST
def response_rate(request: HttpRequest, response_id: int) -> HttpResponse:
    helpful_value = request.POST.get("helpful", "")
    if helpful_value not in ("yes", "no"):
        return HttpResponseBadRequest(_("Say whether the response was helpful."))
    if ratelimits.attempt_limited(
        request, group="stories.reaction", keys=[ratelimits.ip_key()],
        rate_=settings.STORIES_REACTION_RATE,
    ):
        return rate_limited(request)
    story_id = Response.objects.filter(pk=response_id, status=ResponseStatus.PUBLISHED).values_list(
        "story_id", flat=True
    ).first()
    if story_id is None:
        raise Http404(_("There is no published response at this address."))
    author_token = request.POST.get("author_token", "")
    new_anonymous_id = ""
    if author_token:
        story = _author_story(author_token)
        if story.pk != story_id:
            raise PermissionDenied
        key, by_author = selectors.author_person_key(story_id=story_id), True
    elif request.user.is_authenticated:
        key, by_author = person_key(user=actor_or_none(request)), False
    else:
        anonymous_id, is_new = anonymous_id_get_or_new(request)
        new_anonymous_id = anonymous_id if is_new else ""
        key, by_author = person_key(anonymous_id=anonymous_id), False
    try:
        services.response_rate(response_id=response_id, person_key=key, helpful=helpful_value == "yes", by_author=by_author)
    except Response.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("Thank you for rating this response"))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = _private_url(author_token) if author_token else _story_url(story_id)
    http_response = redirect(f"{next_url.split('#')[0]}#response-{response_id}")
    if new_anonymous_id:
        anonymous_id_set(http_response, new_anonymous_id)
    return http_response


# --- Organisation settings and templates ------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def organisation_settings(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organisation_get_for_story_settings(user=signed_in_actor(request), slug=slug)
    current = services.organisation_story_settings(organisation=org)
    form = OrganisationSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"signature_style": current.signature_style, "provider_notice_hours": current.provider_notice_hours},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_settings_update(
                organisation=org, actor=signed_in_actor(request), signature_style=form.cleaned_data["signature_style"],
                provider_notice_hours=form.cleaned_data["provider_notice_hours"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("The story settings of %(name)s have been saved") % {"name": org.name})
            return redirect("stories:organisation_settings", slug=org.slug)
    return render(
        request,
        "stories/responses/organisation_settings.html",
        {
            "page_title": page_title(_("Story settings for %(name)s") % {"name": org.name}, form),
            "org": org,
            "form": form,
            "inherited_from": current.organisation if current.pk and current.organisation_id != org.pk else None,
            "example": {
                style: services.response_signature(
                    style=style, user=signed_in_actor(request), organisation=org, job_title=_("Ward manager")
                )
                for style, _label in OrganisationSettingsForm.base_fields["signature_style"].choices  # type: ignore[attr-defined]
            },
        },
    )


@login_required
def response_templates(request: HttpRequest, slug: str) -> HttpResponse:
    org = selectors.organisation_get_for_story_settings(user=signed_in_actor(request), slug=slug)
    return render(
        request,
        "stories/responses/templates.html",
        {
            "page_title": _("Response templates for %(name)s") % {"name": org.name},
            "org": org,
            "templates": selectors.response_templates_of(organisation=org),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_template_add(request: HttpRequest, slug: str) -> HttpResponse:
    return _template_form(request, slug, template_id=None)


@login_required
@require_http_methods(["GET", "POST"])
def response_template_edit(request: HttpRequest, slug: str, template_id: int) -> HttpResponse:
    return _template_form(request, slug, template_id=template_id)


def _template_form(request: HttpRequest, slug: str, *, template_id: int | None) -> HttpResponse:
    org = selectors.organisation_get_for_story_settings(user=signed_in_actor(request), slug=slug)
    template = selectors.response_template_get(organisation=org, template_id=template_id) if template_id else None
    form = ResponseTemplateForm(
        request.POST if request.method == "POST" else None,
        initial={"title": template.title, "body": template.body} if template else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                services.response_template_create(
                    organisation=org, actor=signed_in_actor(request), title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
                messages.success(request, _("The template has been added"))
            else:
                services.response_template_update(
                    template_id=template.pk, organisation=org, actor=signed_in_actor(request), title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
                messages.success(request, _("The template has been saved"))
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            return redirect("stories:response_templates", slug=org.slug)
    heading = _("Add a response template") if template is None else _("Change a response template")
    return render(
        request,
        "stories/responses/template_form.html",
        {
            "page_title": page_title(heading, form),
            "heading": heading,
            "back_href": reverse("stories:response_templates", kwargs={"slug": org.slug}),
            "org": org,
            "template": template,
            "form": form,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def response_template_delete(request: HttpRequest, slug: str, template_id: int) -> HttpResponse:
    org = selectors.organisation_get_for_story_settings(user=signed_in_actor(request), slug=slug)
    template = selectors.response_template_get(organisation=org, template_id=template_id)
    if request.method == "POST":
        services.response_template_delete(template_id=template.pk, organisation=org, actor=signed_in_actor(request))
        messages.success(request, _("The template “%(title)s” has been deleted") % {"title": template.title})
        return redirect("stories:response_templates", slug=org.slug)
    return render(
        request,
        "stories/responses/template_delete.html",
        {
            "page_title": _("Delete the template “%(title)s”") % {"title": template.title},
            "back_href": reverse("stories:response_templates", kwargs={"slug": org.slug}),
            "org": org,
            "template": template,
        },
    )


urlpatterns: list[URLPattern] = [
    path("<int:pk>/respond/", respond, name="respond"),
    path("responses/<int:response_id>/edit/", response_edit, name="response_edit"),
    path("responses/<int:response_id>/helpful/", response_rate, name="response_rate"),
    path("moderation/responses/", responses_moderation_queue, name="responses_moderation_queue"),
    path("moderation/responses/<int:response_id>/publish/", response_publish, name="response_publish"),
    path("moderation/responses/<int:response_id>/reject/", response_reject, name="response_reject"),
    path("mine/<str:secret>/reply/", response_author_reply, name="response_author_reply"),
    path(
        "mine/<str:secret>/responses/<int:response_id>/confirm/", response_change_confirm,
        name="response_change_confirm",
    ),
    path("organisations/<slug:slug>/settings/", organisation_settings, name="organisation_settings"),
    path("organisations/<slug:slug>/templates/", response_templates, name="response_templates"),
    path("organisations/<slug:slug>/templates/add/", response_template_add, name="response_template_add"),
    path(
        "organisations/<slug:slug>/templates/<int:template_id>/", response_template_edit,
        name="response_template_edit",
    ),
    path(
        "organisations/<slug:slug>/templates/<int:template_id>/delete/", response_template_delete,
        name="response_template_delete",
    ),
]
