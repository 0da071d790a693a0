"""Views: reading.  The story page, "this happened to me too", following, every list with
its filters, search and feeds, the widget and the open data.  (Each views module lists its own
``urlpatterns``; stories/urls.py joins them.)"""

from __future__ import annotations

import csv
import json
import secrets
from collections.abc import Iterator
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, re_path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from localsocial.accounts.actors import actor_or_none, signed_in_actor
from localsocial.accounts.ratelimits import attempt_limited, ip_key, rate, value_key
from localsocial.core.csv import protect_cell
from localsocial.core.email import site_url
from localsocial.core.page_cache import conditional_on, public_page
from localsocial.core.pagination import InvalidCursorError
from localsocial.core.views import rate_limited
from localsocial.directory.page_groups import DIRECTORY_PAGES
from localsocial.stories import feeds
from localsocial.stories.forms.reading import FollowForm, StoryListForm
from localsocial.stories.models import ListingScope, Story, StoryStatus
from localsocial.stories.page_groups import STORY_LISTS, story_page_group
from localsocial.stories.selectors import reading as selectors
from localsocial.stories.selectors.common import story_responder_memberships
from localsocial.stories.selectors.responses import story_thread
from localsocial.stories.services import reading as services
from localsocial.stories.services.common import person_key

PAGE_SIZE = settings.PAGE_SIZE
# The random id that makes "one per person" hold for people without an account.
PERSON_COOKIE = "ls_person"
PERSON_COOKIE_SALT = "localsocial.stories.person"
PERSON_COOKIE_AGE = 60 * 60 * 24 * 400  # browsers keep a cookie for at most 400 days
WIDGET_DEFAULT, WIDGET_MAX = 5, 10


# --- Who is this? -----------------------------------------------------------------------------

def _anonymous_id(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(PERSON_COOKIE, default=None, salt=PERSON_COOKIE_SALT)
    return value if value and len(value) <= 64 else None


def _person_key(request: HttpRequest) -> str | None:
    """This reader's key for "one per person", or None for a visitor we have not met."""
    actor = actor_or_none(request)
    if actor is not None:
        return person_key(user=actor)
    anonymous_id = _anonymous_id(request)
    return person_key(anonymous_id=anonymous_id) if anonymous_id else None


def _story_or_404(pk: int) -> Story:
    story = Story.objects.filter(pk=pk, status=StoryStatus.PUBLISHED).only("id", "title").first()
    if story is None:
        raise Http404("No such story")
    return story


# --- The story page ---------------------------------------------------------------------------

def _story_page_groups(request: HttpRequest, pk: int) -> list[str]:
    return [story_page_group(pk), DIRECTORY_PAGES]


_LIST_GROUPS = [STORY_LISTS, DIRECTORY_PAGES]


@require_GET
@public_page(_story_page_groups)
def story(request: HttpRequest, pk: int) -> HttpResponse:
    data = selectors.story_get_for_page(story_id=pk)
    item = data.story
    context: dict[str, Any] = {"data": data, "story": item}
    if item.status == StoryStatus.PUBLISHED:
        if request.user.is_authenticated:
            membership = story_responder_memberships(user=request.user, story=item).first()
            if membership is not None and services.story_read_record(
                story_id=item.pk, actor=signed_in_actor(request), organisation_id=membership.organisation_id
            ):
                item.read_at = item.read_at or timezone.now()
                item.progress = max(item.progress, 2)
                data.steps = selectors.progress_steps(item.progress)
            follower = selectors.follower_for_user(story_id=item.pk, user=request.user)
            context["following"] = follower is not None and follower.confirmed_at is not None
            if context["following"]:
                context["unfollow_url"] = reverse(
                    "stories:unfollow", kwargs={"token": services.follower_token(story_id=item.pk, email=follower.email)}  # type: ignore[union-attr]
                )
        reader_key = _person_key(request)
        context["me_too_given"] = selectors.me_too_given(story_id=item.pk, person_key=reader_key)
        context["thread"] = story_thread(story=item, user=request.user, person_key=reader_key)
        context["page_title"] = item.title
    elif item.status == StoryStatus.RESTRICTED:
        context["page_title"] = _("Restricted story")
    else:
        context["page_title"] = _("Withdrawn story")
    context["back_href"] = reverse("stories:index")
    return render(request, "stories/reading/story.html", context)


@require_POST
def me_too(request: HttpRequest, pk: int) -> HttpResponse:
    """"This happened to me too": one per person, with or without an account."""
    item = _story_or_404(pk)
    if attempt_limited(request, group="stories.reaction", keys=[ip_key()], rate_=settings.STORIES_REACTION_RATE):
        return rate_limited(request)
    new_anonymous_id = None
    actor = actor_or_none(request)
    if actor is not None:
        key = person_key(user=actor)
    else:
        anonymous_id = _anonymous_id(request)
        if anonymous_id is None:
            anonymous_id = new_anonymous_id = secrets.token_urlsafe(18)
        key = person_key(anonymous_id=anonymous_id)
    try:
        added = services.me_too_add(story_id=item.pk, person_key=key, actor=actor)
    except services.StoryNotOpenError as exc:
        raise Http404("No such story") from exc
    if added:
        messages.success(request, _("Thank you. We have added you to the people this happened to."))
    else:
        messages.info(request, _("You have already said this happened to you too"))
    response = redirect(f"{item.get_absolute_url()}#me-too")
    if new_anonymous_id:
        response.set_signed_cookie(
            PERSON_COOKIE, new_anonymous_id, salt=PERSON_COOKIE_SALT, max_age=PERSON_COOKIE_AGE,
            httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


# --- Following --------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    item = _story_or_404(pk)
    story_url = item.get_absolute_url()
    if request.user.is_authenticated:
        if request.method == "POST":
            if attempt_limited(request, group="stories.reaction", keys=[ip_key()], rate_=settings.STORIES_REACTION_RATE):
                return rate_limited(request)
            try:
                services.follower_add_for_user(story_id=item.pk, actor=signed_in_actor(request))
            except services.StoryNotOpenError as exc:
                raise Http404("No such story") from exc
            messages.success(
                request,
                _("You are following this story. We will email %(email)s when it gets a response or a change.")
                % {"email": request.user.email},
            )
            return redirect(f"{story_url}#follow")
        return render(
            request, "stories/reading/follow.html",
            {"page_title": _("Follow this story"), "story": item, "back_href": story_url, "form": None},
        )
    form = FollowForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        limited = attempt_limited(
            request, group="stories.follow", keys=[ip_key()], rate_=settings.STORIES_REACTION_RATE
        ) or attempt_limited(
            request, group="stories.follow.email", keys=[value_key(email)], rate_=rate("ACCOUNT_EMAIL_RATE", "3/h")
        )
        if limited:
            return rate_limited(request)
        try:
            services.follower_request(story_id=item.pk, email=email)
        except services.StoryNotOpenError as exc:
            raise Http404("No such story") from exc
        return render(
            request, "stories/reading/follow_sent.html",
            {"page_title": _("Check your email"), "story": item, "email": email},
        )
    return render(
        request, "stories/reading/follow.html",
        {
            "page_title": (_("Error: ") if form.errors else "") + _("Follow this story"),
            "story": item, "back_href": story_url, "form": form,
        },
    )


@require_http_methods(["GET", "POST"])
def follow_confirm(request: HttpRequest, token: str) -> HttpResponse:
    follower = services.follower_get_by_token(token=token)
    if follower is None or follower.story.status != StoryStatus.PUBLISHED:
        return render(request, "stories/reading/link_invalid.html", {"page_title": _("This link does not work")}, status=404)
    if request.method == "POST":
        services.follower_confirm(token=token)
        messages.success(request, _("You are following this story. We will email you when it gets a response or a change."))
        return redirect(follower.story.get_absolute_url())
    return render(
        request, "stories/reading/follow_confirm.html",
        {"page_title": _("Confirm you want to follow this story"), "follower": follower, "story": follower.story},
    )


@require_http_methods(["GET", "POST"])
def unfollow(request: HttpRequest, token: str) -> HttpResponse:
    follower = services.follower_get_by_token(token=token)
    if request.method == "POST":
        services.follower_stop(token=token)
        return render(request, "stories/reading/unfollow_done.html", {"page_title": _("You have stopped following this story")})
    if follower is None:
        return render(request, "stories/reading/link_invalid.html", {"page_title": _("This link does not work")}, status=404)
    return render(
        request, "stories/reading/unfollow.html",
        {"page_title": _("Stop following this story"), "follower": follower, "story": follower.story},
    )


# --- Lists ------------------------------------------------------------------------------------

def _list(request: HttpRequest, scope: selectors.ListScope) -> HttpResponse:
    form = StoryListForm(request.GET)
    valid = form.is_valid()
    filters = form.filters() if valid else selectors.ListFilters()
    try:
        page = selectors.story_list_page(
            scope=scope, filters=filters, cursor=request.GET.get("cursor") or None, page_size=PAGE_SIZE
        )
    except InvalidCursorError as exc:
        raise Http404("This page of the list does not exist") from exc
    query = request.GET.copy()
    query.pop("cursor", None)
    query_string = query.urlencode() if valid else ""
    title = feeds.list_title(scope, filters)
    context = {
        "page_title": (_("Error: ") if not valid else "") + title,
        "heading": title,
        "scope": scope,
        "form": form,
        "filters": filters,
        "page": page,
        "pagination": page.govuk_params(request, landmark_label=_("Pages of stories")),
        "list_url": feeds.list_url(scope),
        "atom_url": feeds.feed_url(scope, "atom") + (f"?{query_string}" if query_string else ""),
        "rss_url": feeds.feed_url(scope, "rss") + (f"?{query_string}" if query_string else ""),
        "searching": filters.is_search,
        "first_page": not request.GET.get("cursor"),
    }
    return render(request, "stories/reading/list.html", context, status=200 if valid else 400)


@require_GET
@public_page(_LIST_GROUPS)
def index(request: HttpRequest) -> HttpResponse:
    """All stories, newest first; with ``q``, the search page."""
    return _list(request, selectors.ALL_STORIES)


@require_GET
@public_page(_LIST_GROUPS)
def organisation_stories(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(request, selectors.list_scope_for(kind=ListingScope.ORGANISATION, key=slug))


@require_GET
@public_page(_LIST_GROUPS)
def service_stories(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(request, selectors.list_scope_for(kind=ListingScope.SERVICE, key=slug))


@require_GET
@public_page(_LIST_GROUPS)
def tag_stories(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(request, selectors.list_scope_for(kind=ListingScope.TAG, key=slug))


@require_GET
@public_page(_LIST_GROUPS)
def area_stories(request: HttpRequest, gss_code: str) -> HttpResponse:
    return _list(request, selectors.list_scope_for(kind=ListingScope.AREA, key=gss_code))


# --- Widget -----------------------------------------------------------------------------------

@require_GET
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})  # type: ignore[arg-type]
@cache_control(public=True, max_age=300)
def widget_service(request: HttpRequest, slug: str) -> HttpResponse:
    """A small page of a service's latest stories, for other sites to show in an iframe."""
    service = selectors.service_get_for_widget(slug=slug)
    try:
        count = max(1, min(WIDGET_MAX, int(request.GET.get("n", WIDGET_DEFAULT))))
    except ValueError:
        count = WIDGET_DEFAULT
    return render(
        request, "stories/reading/widget.html",
        {
            "page_title": _("Stories about %(name)s") % {"name": service.name},
            "service": service,
            "stories": selectors.widget_stories(service=service, count=count),
            "list_url": site_url(reverse("stories:service_stories", kwargs={"slug": service.slug})),
            "site_root": settings.SITE_URL,
        },
    )


@require_GET
def widget_help(request: HttpRequest) -> HttpResponse:
    """How to put a service's stories on another website."""
    slug = (request.GET.get("service") or "").strip()
    service = None
    problem = ""
    if slug:
        service = selectors.service_find(slug=slug)
        if service is None:
            problem = _("There is no service with the id “%(slug)s”. Copy the id from the end of the service’s address in the directory.") % {"slug": slug}  # noqa: RUF001
    widget_src = site_url(reverse("stories:widget_service", kwargs={"slug": service.slug if service else "SERVICE-ID"}))
    frame_title = escape(_("Stories about %(name)s") % {"name": service.name if service else _("the service")})
    snippet = (
        f'<iframe src="{widget_src}" title="{frame_title}" '
        'width="100%" height="480" style="border: 1px solid #b1b4b6" loading="lazy"></iframe>'
    )
    return render(
        request, "stories/reading/widget_help.html",
        {
            "page_title": (_("Error: ") if problem else "") + _("Show stories on your website"),
            "service": service, "slug": slug, "problem": problem, "snippet": snippet,
            "preview_src": reverse("stories:widget_service", kwargs={"slug": service.slug}) if service else "",
        },
    )


# --- Open data --------------------------------------------------------------------------------

@require_GET
def open_data(request: HttpRequest) -> HttpResponse:
    return render(
        request, "stories/reading/open_data.html",
        {"page_title": _("Open data: stories"), "fields": selectors.OPEN_DATA_FIELDS},
    )


def _open_data_record(item: Story) -> dict[str, Any]:
    links = list(item.story_services.all())
    tags = list(item.tags.all())
    return {
        "id": item.pk,
        "url": site_url(item.get_absolute_url()),
        "title": item.title,
        "text": item.body,
        "feelings": item.feelings,
        "services": [{"id": link.service.pk, "slug": link.service.slug, "name": link.service.name} for link in links],
        "organisations": list(
            {
                link.service.organisation.pk: {
                    "id": link.service.organisation.pk, "slug": link.service.organisation.slug,
                    "name": link.service.organisation.name,
                }
                for link in links
            }.values()
        ),
        "tags": [{"slug": tag.slug, "name": tag.name, "polarity": tag.polarity} for tag in tags],
        "pseudonym": item.pseudonym,
        "author_role": item.author_role,
        "age_group": item.age_group or None,
        "happened_month": item.happened_month.strftime("%Y-%m"),
        "published_at": item.published_at.isoformat() if item.published_at else None,
        "progress": selectors.Progress(item.progress).name.lower(),
        "response_count": item.response_count,
        "me_too_count": item.me_too_count,
        "criticality": item.criticality,
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_lines() -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # so that spreadsheets read the file as UTF-8
    yield writer.writerow(selectors.OPEN_DATA_FIELDS)
    for item in selectors.open_data_stories():
        record = _open_data_record(item)
        row = {
            **record,
            "service_ids": ";".join(str(s["id"]) for s in record["services"]),
            "service_names": ";".join(s["name"] for s in record["services"]),
            "organisation_ids": ";".join(str(o["id"]) for o in record["organisations"]),
            "organisation_names": ";".join(o["name"] for o in record["organisations"]),
            "tags_good": ";".join(t["name"] for t in record["tags"] if t["polarity"] == "good"),
            "tags_improve": ";".join(t["name"] for t in record["tags"] if t["polarity"] == "improve"),
        }
        yield writer.writerow(
            [protect_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in (row[name] for name in selectors.OPEN_DATA_FIELDS)]
        )


def _json_lines() -> Iterator[str]:
    header = {
        "licence": "Open Government Licence v3.0",
        "licence_url": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
        "attribution": "Contains stories published on Local Social.",
        "generated_at": timezone.now().isoformat(),
    }
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "stories": [\n'
    first = True
    for item in selectors.open_data_stories():
        yield ("" if first else ",\n") + json.dumps(_open_data_record(item), ensure_ascii=False)
        first = False
    yield "\n]}\n"


def _download(lines: Iterator[str], *, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@conditional_on(_LIST_GROUPS)
def open_data_csv(request: HttpRequest) -> StreamingHttpResponse:
    return _download(_csv_lines(), content_type="text/csv; charset=utf-8", filename="local-social-stories.csv")


@require_GET
@conditional_on(_LIST_GROUPS)
def open_data_json(request: HttpRequest) -> StreamingHttpResponse:
    return _download(_json_lines(), content_type="application/json; charset=utf-8", filename="local-social-stories.json")


# --- Addresses --------------------------------------------------------------------------------

_FMT = r"(?P<fmt>atom|rss)"

urlpatterns: list[URLPattern] = [
    path("", index, name="index"),
    re_path(rf"^feed/{_FMT}/$", feeds.feed_view, name="feed"),
    path("<int:pk>/", story, name="story"),
    path("<int:pk>/me-too/", me_too, name="me_too"),
    path("<int:pk>/follow/", follow, name="follow"),
    path("follow/<str:token>/confirm/", follow_confirm, name="follow_confirm"),
    path("follow/<str:token>/stop/", unfollow, name="unfollow"),
    path("organisations/<slug:slug>/", organisation_stories, name="organisation_stories"),
    re_path(rf"^organisations/(?P<key>[-a-zA-Z0-9_]+)/feed/{_FMT}/$", feeds.feed_view,
            {"kind": ListingScope.ORGANISATION.value}, name="organisation_feed"),
    path("services/<slug:slug>/", service_stories, name="service_stories"),
    re_path(rf"^services/(?P<key>[-a-zA-Z0-9_]+)/feed/{_FMT}/$", feeds.feed_view,
            {"kind": ListingScope.SERVICE.value}, name="service_feed"),
    path("tags/<slug:slug>/", tag_stories, name="tag_stories"),
    re_path(rf"^tags/(?P<key>[-a-zA-Z0-9_]+)/feed/{_FMT}/$", feeds.feed_view,
            {"kind": ListingScope.TAG.value}, name="tag_feed"),
    path("areas/<str:gss_code>/", area_stories, name="area_stories"),
    re_path(rf"^areas/(?P<key>[A-Za-z0-9]+)/feed/{_FMT}/$", feeds.feed_view,
            {"kind": ListingScope.AREA.value}, name="area_feed"),
    path("widget/", widget_help, name="widget_help"),
    path("widget/services/<slug:slug>/", widget_service, name="widget_service"),
    path("open-data/", open_data, name="open_data"),
    path("open-data/stories.csv", open_data_csv, name="open_data_csv"),
    path("open-data/stories.json", open_data_json, name="open_data_json"),
]
