"""Views: telling a story (on the web and assisted), the personal-data check while typing,
and the author's private page (status, edit, withdraw, lost link)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from localsocial.accounts import ratelimits
from localsocial.accounts.actors import actor_or_none, signed_in_actor
from localsocial.core.views import rate_limited
from localsocial.stories.forms.submission import (
    CHECKED_FIELDS,
    StoryAssistedForm,
    StoryTellForm,
    StoryTextForm,
    personal_data_warnings,
)
from localsocial.stories.models import Story, StoryStatus
from localsocial.stories.models.story import BODY_MAX_CHARS, EDITABLE_STATUSES, email_is_placeholder
from localsocial.stories.selectors.responses import story_thread
from localsocial.stories.selectors.submission import (
    ServiceChoice,
    services_for_telling,
    story_get_for_author,
    tags_for_telling,
)
from localsocial.stories.services.common import person_key
from localsocial.stories.services.submission import (
    WITHDRAWABLE_STATUSES,
    StoryNotEditable,
    StoryNotWithdrawable,
    feelings_word_limit,
    max_age_months,
    story_author_edit,
    story_author_links_send,
    story_submit,
    story_withdraw,
    submission_was_duplicate,
    word_limit,
)

SENT_SESSION_KEY = "stories_sent"


def submit_rate() -> str:
    return ratelimits.rate("STORIES_SUBMIT_RATE", "5/h")


def check_rate() -> str:
    # The check runs as the author types (debounced), so it allows far more than submissions.
    return ratelimits.rate("STORIES_CHECK_RATE", "300/h")


def _submit_keys(request: HttpRequest) -> list[ratelimits.Key]:
    keys = [ratelimits.ip_key()]
    if request.user.is_authenticated:
        keys.append(ratelimits.value_key(f"user:{request.user.pk}"))
    return keys


def _private(response: HttpResponse) -> HttpResponse:
    """The private pages' address is the secret: keep it out of other sites' logs (the
    referrer goes to this site only), out of shared caches and out of search engines.
    ("no-referrer" would be stricter but makes browsers send ``Origin: null`` with the page's
    own forms, which CSRF protection rightly refuses.)"""
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- Telling a story --------------------------------------------------------------------------

def _tell_context(
    request: HttpRequest, *, assisted: bool, form: StoryTextForm, choice: ServiceChoice,
    warnings: list[Any] | None = None, confirm_needed: bool = False, checked: bool = False,
) -> dict[str, Any]:
    form_url = reverse("stories:tell_assisted" if assisted else "stories:tell")
    change_url = form_url + "?" + urlencode({"service": [s.pk for s in choice.chosen]}, doseq=True)
    warnings = warnings or []
    by_field: dict[str, list[Any]] = {name: [] for name in CHECKED_FIELDS}
    for warning in warnings:
        by_field[warning.field].append(warning)
    has_errors = bool(form.is_bound and form.errors)
    title = _("Enter a story for someone") if assisted else _("Tell your story")
    return {
        "page_title": (_("Error: %(title)s") % {"title": title}) if has_errors else title,
        "heading": title,
        "assisted": assisted,
        "form": form,
        "form_url": form_url,
        "change_services_url": change_url,
        "check_url": reverse("stories:tell_check"),
        "chosen": choice.chosen,
        "warnings": warnings,
        "warnings_by_field": by_field,
        "confirm_needed": confirm_needed,
        "checked": checked,
        "account_email": request.user.email if request.user.is_authenticated and not assisted else "",
        "word_limit": word_limit(),
        "feelings_word_limit": feelings_word_limit(),
        "max_age_months": max_age_months(),
        "back_href": change_url,
    }


def _tell(request: HttpRequest, *, assisted: bool) -> HttpResponse:
    form_class = StoryAssistedForm if assisted else StoryTellForm
    if request.method == "POST":
        return _tell_post(request, assisted=assisted, form_class=form_class)

    query = " ".join(request.GET.get("q", "").split())[:200]
    choice = services_for_telling(query=query, chosen_ids=request.GET.getlist("service"))
    error = ""
    if "continue" in request.GET:
        if choice.chosen:
            form = form_class(tags=tags_for_telling())
            return render(request, "stories/submit/tell_story.html",
                          _tell_context(request, assisted=assisted, form=form, choice=choice))
        error = _("Choose at least one service your story is about")
    elif "q" in request.GET and not query:
        error = _("Enter the name of a service, a postcode or an NHS ODS code to search for")
    title = _("Enter a story for someone") if assisted else _("Tell your story")
    return render(
        request,
        "stories/submit/tell_services.html",
        {
            "page_title": (_("Error: %(title)s") % {"title": title}) if error else title,
            "heading": title,
            "assisted": assisted,
            "form_url": reverse("stories:tell_assisted" if assisted else "stories:tell"),
            "query": query,
            "searched": "q" in request.GET and bool(query),
            "choice": choice,
            "error": error,
        },
    )


def _tell_post(request: HttpRequest, *, assisted: bool, form_class: type[StoryTellForm]) -> HttpResponse:
    choice = services_for_telling(query="", chosen_ids=request.POST.getlist("service"))
    form = form_class(request.POST, tags=tags_for_telling())
    valid = form.is_valid()
    action = request.POST.get("action", "send")

    if form.honeypot_filled() and not assisted:
        # Quietly look as if it worked; store nothing.  It still counts towards the limit.
        if ratelimits.failures_exhausted(request, group="stories.submit", keys=_submit_keys(request), rate_=submit_rate()):
            return rate_limited(request)
        ratelimits.failure_record(request, group="stories.submit", keys=_submit_keys(request), rate_=submit_rate())
        request.session[SENT_SESSION_KEY] = {"email": str(form.data.get("email", ""))[:254], "duplicate": False}
        return redirect("stories:tell_sent")

    warnings = form.warnings()
    if action == "check":
        # "Check for personal details" without JavaScript: show the warnings, nothing else.
        return render(request, "stories/submit/tell_story.html", _tell_context(
            request, assisted=assisted, form=form, choice=choice, warnings=warnings, checked=True,
        ))
    if valid and warnings and not form.cleaned_data.get("personal_data_confirmed"):
        return render(request, "stories/submit/tell_story.html", _tell_context(
            request, assisted=assisted, form=form, choice=choice, warnings=warnings, confirm_needed=True,
        ))
    if valid:
        if not assisted and ratelimits.failures_exhausted(
            request, group="stories.submit", keys=_submit_keys(request), rate_=submit_rate()
        ):
            return rate_limited(request)
        data = form.cleaned_data
        try:
            story, _secret = story_submit(
                **form.service_kwargs(),
                service_ids=request.POST.getlist("service"),
                email=data.get("email", "") if assisted or not request.user.is_authenticated else request.user.email,
                # The author on the web (None for a visitor), or the member of staff entering it.
                actor=signed_in_actor(request) if assisted else actor_or_none(request),
                route=data.get("route", "web") if assisted else "web",
                consent=bool(data.get("consent")) if assisted else None,
                consent_note=data.get("consent_note", "") if assisted else "",
            )
        except ValidationError as error:
            form.apply_errors(error)
        else:
            if not assisted:
                ratelimits.failure_record(request, group="stories.submit", keys=_submit_keys(request), rate_=submit_rate())
            request.session[SENT_SESSION_KEY] = {
                "email": "" if email_is_placeholder(story.author_email) else story.author_email,
                "duplicate": submission_was_duplicate(story=story),
                "assisted": assisted,
                "entered_by_email": getattr(request.user, "email", "") if assisted else "",
            }
            return redirect("stories:tell_sent")
    return render(request, "stories/submit/tell_story.html", _tell_context(
        request, assisted=assisted, form=form, choice=choice,
        warnings=warnings if form.errors else None,
    ))


@require_http_methods(["GET", "POST"])
def tell(request: HttpRequest) -> HttpResponse:
    return _tell(request, assisted=False)


@login_required
@require_http_methods(["GET", "POST"])
def tell_assisted(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("stories.enter_assisted"):
        raise PermissionDenied(_("Only moderators and staff of an organisation can enter a story for someone."))
    return _tell(request, assisted=True)


def tell_sent(request: HttpRequest) -> HttpResponse:
    sent = request.session.pop(SENT_SESSION_KEY, None) or {}
    return render(request, "stories/submit/sent.html", {
        "page_title": _("We already have your story") if sent.get("duplicate") else _("Story sent"),
        "sent": sent,
    })


@require_POST
def tell_check(request: HttpRequest) -> HttpResponse:
    """The personal data in the text typed so far, as JSON, for stories-tell.js."""
    if ratelimits.attempt_limited(request, group="stories.check", keys=[ratelimits.ip_key()], rate_=check_rate()):
        return JsonResponse({"error": _("Too many checks. Try again later.")}, status=429)
    values = {name: str(request.POST.get(name, "")) for name in CHECKED_FIELDS}
    if any(len(value) > BODY_MAX_CHARS * 2 for value in values.values()):
        return JsonResponse({"error": _("The text is too long to check.")}, status=400)
    warnings = personal_data_warnings(values)
    fields: dict[str, dict[str, Any]] = {name: {"heading": "", "findings": []} for name in CHECKED_FIELDS}
    for warning in warnings:
        fields[warning.field]["findings"].append({
            "kind": warning.kind, "start": warning.start, "end": warning.end, "text": warning.text,
            "reason": warning.reason, "before": warning.before, "after": warning.after,
        })
    for entry in fields.values():
        found = len(entry["findings"])
        if found:
            entry["heading"] = ngettext(
                "Check this: it could identify someone",
                "Check these %(num)d things: they could identify someone",
                found,
            ) % {"num": found}
    count = len(warnings)
    if count:
        summary = ngettext(
            "We found %(num)d thing that could identify someone.",
            "We found %(num)d things that could identify someone.",
            count,
        ) % {"num": count}
    else:
        summary = _("We found nothing that could identify someone.")
    response = JsonResponse({"count": count, "summary": summary, "fields": fields})
    response["Cache-Control"] = "no-store"
    return response


# --- The author's private page ----------------------------------------------------------------

def _public_url(story: Story) -> str:
    try:
        return reverse("stories:story", kwargs={"pk": story.pk})
    except NoReverseMatch:  # the reading part's page is not there (yet)
        return ""


def _thread(request: HttpRequest, story: Story, secret: str) -> dict[str, Any]:
    # One key per story's author, whatever device they use: the author rates once.
    key = person_key(anonymous_id=f"story-author:{story.pk}")
    return story_thread(story=story, user=request.user, author_token=secret, person_key=key)


@never_cache
def mine(request: HttpRequest, secret: str) -> HttpResponse:
    story = story_get_for_author(secret=secret)
    return _private(render(request, "stories/submit/mine.html", {
        "page_title": _("Your story: %(title)s") % {"title": story.title},
        "story": story,
        "secret": secret,
        "public_url": _public_url(story),
        "can_edit": story.status in EDITABLE_STATUSES,
        "can_withdraw": story.status in WITHDRAWABLE_STATUSES,
        "thread": _thread(request, story, secret),
        "statuses": StoryStatus,
        "no_email": email_is_placeholder(story.author_email),
    }))


@never_cache
@require_http_methods(["GET", "POST"])
def mine_edit(request: HttpRequest, secret: str) -> HttpResponse:
    story = story_get_for_author(secret=secret)
    mine_url = reverse("stories:mine", kwargs={"secret": secret})
    if story.status not in EDITABLE_STATUSES:
        return _private(render(request, "stories/submit/mine_locked.html", {
            "page_title": _("You can no longer change this story"), "story": story, "back_href": mine_url,
        }))
    tags = tags_for_telling()
    warnings: list[Any] = []
    confirm_needed = checked = False
    if request.method == "POST":
        form = StoryTextForm(request.POST, tags=tags)
        valid = form.is_valid()
        warnings = form.warnings()
        action = request.POST.get("action", "send")
        if action == "check":
            checked = True
        elif valid and warnings and not form.cleaned_data.get("personal_data_confirmed"):
            confirm_needed = True
        elif valid:
            try:
                story_author_edit(story_id=story.pk, **form.service_kwargs())
            except StoryNotEditable:
                return _private(render(request, "stories/submit/mine_locked.html", {
                    "page_title": _("You can no longer change this story"), "story": story, "back_href": mine_url,
                }))
            except ValidationError as error:
                form.apply_errors(error)
            else:
                messages.success(request, _("Your changes are saved. A moderator will read your story as it is now."))
                return redirect(mine_url)
    else:
        form = StoryTextForm(initial=StoryTextForm.initial_from_story(story), tags=tags)
    by_field: dict[str, list[Any]] = {name: [] for name in CHECKED_FIELDS}
    for warning in warnings:
        by_field[warning.field].append(warning)
    title = _("Change your story")
    return _private(render(request, "stories/submit/mine_edit.html", {
        "page_title": (_("Error: %(title)s") % {"title": title}) if form.is_bound and form.errors else title,
        "story": story,
        "form": form,
        "form_url": reverse("stories:mine_edit", kwargs={"secret": secret}),
        "check_url": reverse("stories:tell_check"),
        "warnings": warnings,
        "warnings_by_field": by_field,
        "confirm_needed": confirm_needed,
        "checked": checked,
        "word_limit": word_limit(),
        "feelings_word_limit": feelings_word_limit(),
        "max_age_months": max_age_months(),
        "back_href": mine_url,
    }))


@never_cache
@require_http_methods(["GET", "POST"])
def mine_withdraw(request: HttpRequest, secret: str) -> HttpResponse:
    story = story_get_for_author(secret=secret)
    mine_url = reverse("stories:mine", kwargs={"secret": secret})
    if request.method == "POST":
        try:
            story_withdraw(story_id=story.pk)
        except StoryNotWithdrawable:
            messages.info(request, _("This story cannot be withdrawn: it is not published and will not be."))
        else:
            messages.success(request, _("Your story is withdrawn. Its text is no longer shown to anyone."))
        return redirect(mine_url)
    if story.status not in WITHDRAWABLE_STATUSES:
        return redirect(mine_url)
    return _private(render(request, "stories/submit/mine_withdraw.html", {
        "page_title": _("Withdraw your story"), "story": story, "form_url": request.path, "back_href": mine_url,
    }))


@require_http_methods(["GET", "POST"])
def mine_lost(request: HttpRequest) -> HttpResponse:
    error = ""
    email = ""
    if request.method == "POST":
        email = str(request.POST.get("email", "")).strip()[:254]
        try:
            if not email:
                raise ValidationError(_("Enter your email address"))
            validate_email(email)
        except ValidationError:
            error = _("Enter an email address in the correct format, like name@example.com") if email else _(
                "Enter your email address"
            )
        else:
            keys = [ratelimits.ip_key(), ratelimits.value_key(f"email:{email.lower()}")]
            if ratelimits.attempt_limited(
                request, group="stories.lost_link", keys=keys,
                rate_=ratelimits.rate("ACCOUNT_EMAIL_RATE", "3/h"),
            ):
                return rate_limited(request)
            story_author_links_send(email=email)
            return redirect("stories:mine_lost_sent")
    title = _("Find your stories")
    return render(request, "stories/submit/lost.html", {
        "page_title": (_("Error: %(title)s") % {"title": title}) if error else title,
        "error": error,
        "email": email,
    })


def mine_lost_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "stories/submit/lost_sent.html", {"page_title": _("Check your email")})


urlpatterns: list[URLPattern] = [
    path("tell/", tell, name="tell"),
    path("tell/assisted/", tell_assisted, name="tell_assisted"),
    path("tell/check/", tell_check, name="tell_check"),
    path("tell/sent/", tell_sent, name="tell_sent"),
    path("mine/", mine_lost, name="mine_lost"),
    path("mine/sent/", mine_lost_sent, name="mine_lost_sent"),
    path("mine/<str:secret>/", mine, name="mine"),
    path("mine/<str:secret>/edit/", mine_edit, name="mine_edit"),
    path("mine/<str:secret>/withdraw/", mine_withdraw, name="mine_withdraw"),
]
