"""Atom and RSS feeds of every list of stories, with its filters and search (django's
syndication framework).  A feed holds the newest published stories of the list, each with a
short summary of its text and a link to its page; nothing that is not published ever appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.syndication.views import Feed
from django.core.exceptions import BadRequest
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from localsocial.core.page_cache import public_page
from localsocial.directory.page_groups import DIRECTORY_PAGES
from localsocial.stories.forms.reading import StoryListForm
from localsocial.stories.models import ListingScope
from localsocial.stories.page_groups import STORY_LISTS
from localsocial.stories.selectors.reading import (
    ALL_STORIES,
    ListedStory,
    ListFilters,
    ListScope,
    list_scope_for,
    story_list_page,
)

FEED_SIZE = 30

# The list page and feed names of each kind of list (see views.reading.urlpatterns).
LIST_VIEWS = {
    ListingScope.ALL: ("stories:index", "stories:feed", None),
    ListingScope.ORGANISATION: ("stories:organisation_stories", "stories:organisation_feed", "slug"),
    ListingScope.SERVICE: ("stories:service_stories", "stories:service_feed", "slug"),
    ListingScope.TAG: ("stories:tag_stories", "stories:tag_feed", "slug"),
    ListingScope.AREA: ("stories:area_stories", "stories:area_feed", "gss_code"),
}


def scope_key(scope: ListScope) -> str | None:
    """The slug or GSS code that names the list in its address."""
    if scope.obj is None:
        return None
    return getattr(scope.obj, "gss_code", None) or scope.obj.slug


def list_url(scope: ListScope) -> str:
    view, _feed, kwarg = LIST_VIEWS[ListingScope(scope.scope)]
    return reverse(view, kwargs={kwarg: scope_key(scope)} if kwarg else None)


def feed_url(scope: ListScope, fmt: str) -> str:
    _view, feed, kwarg = LIST_VIEWS[ListingScope(scope.scope)]
    kwargs: dict[str, Any] = {"fmt": fmt}
    if kwarg:
        kwargs["key"] = scope_key(scope)
    return reverse(feed, kwargs=kwargs)


def list_title(scope: ListScope, filters: ListFilters) -> str:
    """The list's name in words: "Stories about Riverside Hospital matching “parking”"."""
    title = _("Stories about %(name)s") % {"name": scope.name} if scope.obj is not None else _("All stories")
    if filters.query is not None and filters.query.has_positive_terms:
        title = _("%(title)s matching “%(query)s”") % {"title": title, "query": filters.query.display()}
    return title


@dataclass
class FeedSource:
    scope: ListScope
    filters: ListFilters
    query_string: str
    items: list[ListedStory]


class StoryAtomFeed(Feed):
    feed_type: type = Atom1Feed

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request: HttpRequest, kind: str = ListingScope.ALL, key: str | None = None, **kwargs: Any) -> FeedSource:  # type: ignore[override]
        scope = ALL_STORIES if kind == ListingScope.ALL else list_scope_for(kind=kind, key=key or "")
        form = StoryListForm(request.GET)
        if not form.is_valid():
            raise BadRequest("The filters of this feed are not valid.")
        filters = form.filters()
        query = request.GET.copy()
        query.pop("cursor", None)
        page = story_list_page(scope=scope, filters=filters, cursor=None, page_size=FEED_SIZE)
        return FeedSource(scope=scope, filters=filters, query_string=query.urlencode(), items=page.items)

    def title(self, obj: FeedSource) -> str:
        return f"{list_title(obj.scope, obj.filters)} – Local Social"  # noqa: RUF001

    def subtitle(self, obj: FeedSource) -> str:
        return _("The newest published stories, as people told them, with the progress of each.")

    description = subtitle  # RSS calls it the description

    def link(self, obj: FeedSource) -> str:
        url = list_url(obj.scope)
        return f"{url}?{obj.query_string}" if obj.query_string else url

    def feed_url(self, obj: FeedSource) -> str:
        return self.request.get_full_path()

    def items(self, obj: FeedSource) -> list[ListedStory]:
        return obj.items

    def item_title(self, item: ListedStory) -> str:
        return item.title

    def item_description(self, item: ListedStory) -> str:
        # Feed readers read the summary as HTML: escape it, so that the author's words are
        # always shown as words, whatever they typed.
        services = ", ".join(service.name for service in item.service_list)
        summary = str(escape(item.excerpt))
        if services:
            summary += "<br><br>" + str(escape(_("About: %(services)s") % {"services": services}))
        summary += "<br>" + str(escape(_("Progress: %(progress)s") % {"progress": item.get_progress_display()}))
        return summary

    def item_link(self, item: ListedStory) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: ListedStory) -> str:
        return self.request.build_absolute_uri(item.get_absolute_url())

    item_guid_is_permalink = True

    def item_pubdate(self, item: ListedStory) -> Any:
        return item.published_at

    def item_updateddate(self, item: ListedStory) -> Any:
        return item.published_at

    def item_author_name(self, item: ListedStory) -> str:
        return item.pseudonym

    def item_categories(self, item: ListedStory) -> list[str]:
        return [service.name for service in item.service_list]


class StoryRssFeed(StoryAtomFeed):
    feed_type = Rss201rev2Feed


@public_page([STORY_LISTS, DIRECTORY_PAGES])
def feed_view(request: HttpRequest, fmt: str, kind: str = ListingScope.ALL, key: str | None = None) -> Any:
    """The Atom or RSS feed of one list (``fmt`` is "atom" or "rss")."""
    feed_class = StoryAtomFeed if fmt == "atom" else StoryRssFeed
    return feed_class()(request, kind=kind, key=key)
