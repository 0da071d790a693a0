"""Views: moderation.  The moderators' queue, one story's moderation page and its decisions,
rejection templates, figures, and the page where a private provider answers a notice.
(Each views module lists its own ``urlpatterns``; stories/urls.py joins them.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts.actors import signed_in_actor
from localsocial.core.forms import form_errors_apply, page_title
from localsocial.core.jinja2env import date_format
from localsocial.core.pagination import InvalidCursorError
from localsocial.stories.forms.moderation import (
    CriticalityForm,
    ProviderReviewForm,
    PublishForm,
    RejectForm,
    RejectionTemplateForm,
    RestrictForm,
    StoryEditForm,
    TagsForm,
)
from localsocial.stories.models import ProviderDecision, StoryStatus
from localsocial.stories.selectors import moderation as selectors
from localsocial.stories.services import moderation as services


def _moderator(request: HttpRequest) -> None:
    if not request.user.has_perm("stories.moderate"):
        raise PermissionDenied(_("Only moderators can see this page."))


# --- The queue -------------------------------------------------------------------------------

@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _moderator(request)
    try:
        data = selectors.moderation_queue(
            user=signed_in_actor(request), cursor=request.GET.get("cursor") or None, page_size=settings.PAGE_SIZE
        )
    except InvalidCursorError as exc:
        raise Http404 from exc
    return render(request, "stories/moderation/queue.html", {
        "page_title": _("Stories to moderate"),
        "data": data,
        "pagination": data.page.govuk_params(request, landmark_label=_("Stories waiting pages")),
    })


# --- One story -------------------------------------------------------------------------------

def _story_page(request: HttpRequest, pk: int, **bound: Form) -> HttpResponse:
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    story = data.story
    forms: dict[str, Form] = {
        "criticality_form": CriticalityForm(initial={"criticality": story.criticality}),
        "tags_form": TagsForm(tag_choices=data.tag_choices, initial={"tags": [str(t.pk) for t in data.tags]}),
        "publish_form": PublishForm(),
    }
    forms.update(bound)
    title = _("Moderate: %(title)s") % {"title": story.title}
    return render(request, "stories/moderation/story.html", {
        "page_title": page_title(title, *bound.values()),
        "data": data,
        "story": story,
        "statuses": StoryStatus,
        "hold_until": services.working_days_add(timezone.now(), settings.STORIES_HOLD_WORKING_DAYS),
        "hold_days": settings.STORIES_HOLD_WORKING_DAYS,
        "public_path": services.story_public_path(story=story),
        "back_href": reverse("stories:moderation_queue"),
        **forms,
    })


@login_required
def story(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    return _story_page(request, pk)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    story = data.story
    form = StoryEditForm(
        request.POST if request.method == "POST" else None,
        initial={"title": story.title, "body": story.body, "feelings": story.feelings},
    )
    if request.method == "POST" and form.is_valid():
        try:
            revision = services.story_edit(story_id=story.pk, actor=signed_in_actor(request), **form.cleaned_data)
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            if revision is None:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(request, _("Your changes are saved. The text as sent is kept for moderators."))
            return redirect("stories:moderation_story", pk=story.pk)
    return render(request, "stories/moderation/edit.html", {
        "page_title": page_title(_("Change the text of “%(title)s”") % {"title": story.title}, form),
        "data": data, "story": story, "form": form,
        "back_href": reverse("stories:moderation_story", kwargs={"pk": story.pk}),
    })


@login_required
@require_POST
def criticality(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    form = CriticalityForm(request.POST)
    if form.is_valid():
        try:
            services.story_criticality_set(
                story_id=pk, actor=signed_in_actor(request), criticality=form.cleaned_data["criticality"]
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("Criticality saved."))
            return redirect("stories:moderation_story", pk=pk)
    return _story_page(request, pk, criticality_form=form)


@login_required
@require_POST
def tags(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    form = TagsForm(request.POST, tag_choices=data.tag_choices)
    if form.is_valid():
        try:
            services.story_tags_set(story_id=pk, actor=signed_in_actor(request), tag_ids=form.cleaned_data["tags"])
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("Tags saved."))
            return redirect("stories:moderation_story", pk=pk)
    return _story_page(request, pk, tags_form=form)


@login_required
@require_POST
def suggestion_accept(request: HttpRequest, pk: int, suggestion_id: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    if suggestion_id not in {s.pk for s in data.suggestions}:
        raise Http404("No such suggestion")
    try:
        tag = services.tag_suggestion_accept(suggestion_id=suggestion_id, actor=signed_in_actor(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” is now a tag on this story.") % {"name": tag.name})
    return redirect("stories:moderation_story", pk=pk)


@login_required
@require_POST
def suggestion_decline(request: HttpRequest, pk: int, suggestion_id: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    if suggestion_id not in {s.pk for s in data.suggestions}:
        raise Http404("No such suggestion")
    services.tag_suggestion_decline(suggestion_id=suggestion_id, actor=signed_in_actor(request))
    messages.success(request, _("Suggestion declined."))
    return redirect("stories:moderation_story", pk=pk)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    form = PublishForm(request.POST)
    if form.is_valid():
        try:
            story = services.story_publish(
                story_id=pk, actor=signed_in_actor(request), hold=form.cleaned_data["hold"]
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            if story.status == StoryStatus.NOTICE:
                messages.success(request, _("The private provider has been told. The story will be published "
                                            "when they say go ahead or their time runs out."))
            elif story.status == StoryStatus.HELD:
                messages.success(request, _("The story is held until %(date)s. The service has been told.")
                                 % {"date": date_format(story.held_until, "j F Y, H:i")})
            else:
                messages.success(request, _("The story is published."))
            return redirect("stories:moderation_story", pk=pk)
    return _story_page(request, pk, publish_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    form = RejectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.story_reject(
                story_id=pk, actor=signed_in_actor(request), template_id=form.cleaned_data["template"].pk,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("The story is not published. The author has been emailed the reason."))
            return redirect("stories:moderation_queue")
    return render(request, "stories/moderation/reject.html", {
        "page_title": page_title(_("Do not publish “%(title)s”") % {"title": data.story.title}, form),
        "data": data, "story": data.story, "form": form,
        "back_href": reverse("stories:moderation_story", kwargs={"pk": pk}),
    })


@login_required
@require_http_methods(["GET", "POST"])
def restrict(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    data = selectors.story_get_for_moderation(user=signed_in_actor(request), story_id=pk)
    form = RestrictForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.story_restrict(story_id=pk, actor=signed_in_actor(request), **form.cleaned_data)
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("The story is restricted. Its public page shows who restricted it and why."))
            return redirect("stories:moderation_story", pk=pk)
    return render(request, "stories/moderation/restrict.html", {
        "page_title": page_title(_("Restrict “%(title)s”") % {"title": data.story.title}, form),
        "data": data, "story": data.story, "form": form,
        "back_href": reverse("stories:moderation_story", kwargs={"pk": pk}),
    })


@login_required
@require_POST
def unrestrict(request: HttpRequest, pk: int) -> HttpResponse:
    _moderator(request)
    try:
        services.story_unrestrict(story_id=pk, actor=signed_in_actor(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The story is published again."))
    return redirect("stories:moderation_story", pk=pk)


# --- Rejection templates ---------------------------------------------------------------------

@login_required
def templates(request: HttpRequest) -> HttpResponse:
    _moderator(request)
    return render(request, "stories/moderation/templates.html", {
        "page_title": _("Reasons for not publishing"),
        "templates": selectors.rejection_templates_for_moderators(user=signed_in_actor(request)),
        "back_href": reverse("stories:moderation_queue"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int | None = None) -> HttpResponse:
    _moderator(request)
    template = (
        selectors.rejection_template_get(user=signed_in_actor(request), template_id=template_id) if template_id is not None else None
    )
    initial = {"title": template.title, "body": template.body} if template is not None else None
    form = RejectionTemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.rejection_template_save(
                actor=signed_in_actor(request), template_id=template_id, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("“%(title)s” is saved.") % {"title": saved.title})
            return redirect("stories:moderation_templates")
    title = _("Change a reason") if template is not None else _("Add a reason")
    return render(request, "stories/moderation/template_form.html", {
        "page_title": page_title(title, form), "heading": title, "template": template, "form": form,
        "back_href": reverse("stories:moderation_templates"),
    })


@login_required
@require_POST
def template_retire(request: HttpRequest, template_id: int) -> HttpResponse:
    _moderator(request)
    selectors.rejection_template_get(user=signed_in_actor(request), template_id=template_id)
    restore = request.POST.get("restore") == "1"
    template = services.rejection_template_set_active(
        actor=signed_in_actor(request), template_id=template_id, is_active=restore
    )
    if restore:
        messages.success(request, _("“%(title)s” is offered to moderators again.") % {"title": template.title})
    else:
        messages.success(request, _("“%(title)s” is retired: it is no longer offered.") % {"title": template.title})
    return redirect("stories:moderation_templates")


# --- Figures ---------------------------------------------------------------------------------

@login_required
def figures(request: HttpRequest) -> HttpResponse:
    _moderator(request)
    data = selectors.moderation_figures(user=signed_in_actor(request))
    return render(request, "stories/moderation/figures.html", {
        "page_title": _("Moderation figures"),
        "figures": data,
        "chart_src": selectors.moderation_figures_chart(data),
        "back_href": reverse("stories:moderation_queue"),
    })


# --- The private provider's page -------------------------------------------------------------

def _notice_page(request: HttpRequest, notice_id: int, review_form: ProviderReviewForm | None = None) -> HttpResponse:
    data = selectors.provider_notice_get_for_staff(user=signed_in_actor(request), notice_id=notice_id)
    form = review_form or ProviderReviewForm()
    return render(request, "stories/moderation/provider_notice.html", {
        "page_title": page_title(
            _("A story about %(name)s will be published") % {"name": data.notice.organisation.name}, review_form
        ),
        "data": data, "notice": data.notice, "story": data.story, "form": form,
        "decisions": ProviderDecision,
    })


@login_required
def provider_notice(request: HttpRequest, notice_id: int) -> HttpResponse:
    return _notice_page(request, notice_id)


@login_required
@require_POST
def provider_go_ahead(request: HttpRequest, notice_id: int) -> HttpResponse:
    selectors.provider_notice_get_for_staff(user=signed_in_actor(request), notice_id=notice_id)
    try:
        story = services.provider_notice_go_ahead(notice_id=notice_id, actor=signed_in_actor(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if story.status == StoryStatus.PUBLISHED:
            messages.success(request, _("Thank you. The story is published."))
        else:
            messages.success(request, _("Thank you. The story will be published when every organisation "
                                        "it is about has answered, or their time runs out."))
    return redirect("stories:moderation_provider_notice", notice_id=notice_id)


@login_required
@require_POST
def provider_review(request: HttpRequest, notice_id: int) -> HttpResponse:
    selectors.provider_notice_get_for_staff(user=signed_in_actor(request), notice_id=notice_id)
    form = ProviderReviewForm(request.POST)
    if form.is_valid():
        try:
            services.provider_notice_ask_review(
                notice_id=notice_id, actor=signed_in_actor(request), note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            form_errors_apply(form, error)
        else:
            messages.success(request, _("Thank you. The moderators will review the story before it is published."))
            return redirect("stories:moderation_provider_notice", notice_id=notice_id)
    return _notice_page(request, notice_id, review_form=form)


def _pattern(route: str, view: Any, name: str) -> URLPattern:
    return path(f"moderation/{route}", view, name=name)


urlpatterns: list[URLPattern] = [
    _pattern("", queue, "moderation_queue"),
    _pattern("figures/", figures, "moderation_figures"),
    _pattern("templates/", templates, "moderation_templates"),
    _pattern("templates/add/", template_edit, "moderation_template_add"),
    _pattern("templates/<int:template_id>/", template_edit, "moderation_template_edit"),
    _pattern("templates/<int:template_id>/retire/", template_retire, "moderation_template_retire"),
    _pattern("notices/<int:notice_id>/", provider_notice, "moderation_provider_notice"),
    _pattern("notices/<int:notice_id>/go-ahead/", provider_go_ahead, "moderation_provider_go_ahead"),
    _pattern("notices/<int:notice_id>/review/", provider_review, "moderation_provider_review"),
    _pattern("<int:pk>/", story, "moderation_story"),
    _pattern("<int:pk>/edit/", edit, "moderation_edit"),
    _pattern("<int:pk>/criticality/", criticality, "moderation_criticality"),
    _pattern("<int:pk>/tags/", tags, "moderation_tags"),
    _pattern("<int:pk>/suggestions/<int:suggestion_id>/accept/", suggestion_accept, "moderation_suggestion_accept"),
    _pattern("<int:pk>/suggestions/<int:suggestion_id>/decline/", suggestion_decline, "moderation_suggestion_decline"),
    _pattern("<int:pk>/publish/", publish, "moderation_publish"),
    _pattern("<int:pk>/reject/", reject, "moderation_reject"),
    _pattern("<int:pk>/restrict/", restrict, "moderation_restrict"),
    _pattern("<int:pk>/unrestrict/", unrestrict, "moderation_unrestrict"),
]
