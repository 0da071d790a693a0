"""The stories module's entries in the platform's registries: its section of the site, its
search source, its open data and its "Your work" links.  (Its metrics are in
``stories.metrics``; personal data in ``stories.personal_data_registry``.)  ``register()`` is
called from ``StoriesConfig.ready()``.

No stories role needs a two-factor rule of its own: moderators hold a site role and responders
are organisation staff, both of which the platform already asks for two-step verification."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.core.navigation import navigation_register
from localsocial.core.open_data import DatasetFormat, dataset_register
from localsocial.core.search_sources import SearchHit, search_source_register
from localsocial.core.work_links import WorkLink, work_links_register

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User


def stories_search_hits(query: str, limit: int, user: User | AnonymousUser) -> list[SearchHit]:
    """Published stories with every word of ``query``, newest first, as the stories search
    finds them (``story_list_page``): a bounded read of the index, then the stories."""
    from localsocial.core.search import search_parse
    from localsocial.stories.selectors.reading import ALL_STORIES, ListFilters, story_list_page

    parsed = search_parse(query)
    if not parsed.has_positive_terms:
        return []
    page = story_list_page(scope=ALL_STORIES, filters=ListFilters(query=parsed), cursor=None, page_size=limit)
    return [
        SearchHit(title=story.title, url=story.get_absolute_url(), snippet=story.excerpt)
        for story in page.items
    ]


def _stories_search_url(query: str) -> str:
    return reverse("stories:index") + "?" + urlencode({"q": query})


def stories_work_links(user: User) -> list[WorkLink]:
    """Moderators: the stories and the responses waiting for them, with how many.  Staff of an
    organisation: its dashboard; its administrators: its response templates too; all staff:
    their alerts.  At most four queries (roles, two counts, memberships; the roles and the
    memberships are shared with the rest of the request)."""
    from localsocial.accounts.rules import is_moderator
    from localsocial.accounts.selectors import user_memberships_cached
    from localsocial.directory.models import StaffRole
    from localsocial.stories.models import Response, ResponseStatus, Story, StoryStatus

    links: list[WorkLink] = []
    # The predicate itself, not has_perm: the same answer without Django's permission tables.
    if is_moderator(user):
        links.append(WorkLink(
            label=_("Stories to moderate"), url=reverse("stories:moderation_queue"),
            count=Story.objects.filter(status=StoryStatus.PENDING).count(),
        ))
        links.append(WorkLink(
            label=_("Responses waiting for moderation"), url=reverse("stories:responses_moderation_queue"),
            count=Response.objects.filter(status=ResponseStatus.PENDING).count(),
        ))
    memberships = user_memberships_cached(user=user)
    for membership in memberships:
        organisation = membership.organisation
        links.append(WorkLink(
            label=_("Stories dashboard for %(organisation)s") % {"organisation": organisation.name},
            url=reverse("stories:dashboard", kwargs={"slug": organisation.slug}),
            hint=_("How many stories, how many answered and how fast, and what changed."),
        ))
        if membership.role == StaffRole.ADMINISTRATOR:
            links.append(WorkLink(
                label=_("Response templates for %(name)s") % {"name": organisation.name},
                url=reverse("stories:response_templates", kwargs={"slug": organisation.slug}),
            ))
    if memberships:
        links.append(WorkLink(
            label=_("Your story alerts"), url=reverse("stories:alerts"),
            hint=_("Emails about new stories for your organisation."),
        ))
    return links


def register() -> None:
    from localsocial.core.metrics import metric_register
    from localsocial.stories import metrics

    navigation_register(
        "stories", label=gettext_lazy("Stories"), url_name="stories:index", order=10,
        description=gettext_lazy(
            "Tell your story about a health, care or council service and get an answer in public."
        ),
    )
    search_source_register(
        "stories", label=gettext_lazy("Stories"), fn=stories_search_hits, order=10, more_url=_stories_search_url,
    )
    dataset_register(
        "stories", title=gettext_lazy("Stories"), order=10, about_url_name="stories:open_data",
        description=gettext_lazy(
            "Every published story: its text, the services and organisations it is about, its tags, "
            "how far the conversation has got and how many responses it has had."
        ),
        formats=[
            DatasetFormat("CSV", "stories:open_data_csv", "text/csv"),
            DatasetFormat("JSON", "stories:open_data_json", "application/json"),
        ],
    )
    work_links_register("stories", stories_work_links, order=10)
    metric_register(
        "stories-published", label=gettext_lazy("Stories published"), unit="stories",
        description=gettext_lazy(
            "Stories published in the month about services of organisations that serve the area "
            "(or that are part of one that does). Stories since restricted or withdrawn are not counted."
        ),
        fn=metrics.stories_published,
    )
    metric_register(
        "stories-responded", label=gettext_lazy("Stories responded to"), unit="stories",
        description=gettext_lazy(
            "Published stories about services in the area that had their first response in the month."
        ),
        fn=metrics.stories_responded,
    )
