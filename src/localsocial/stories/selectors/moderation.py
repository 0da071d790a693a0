"""Reads for moderation: the queue, one story with everything a moderator needs, the provider
notice page and the figures.  Each page reads a fixed number of queries however long its
lists are; every read that shows private details checks that the reader is a moderator."""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    Min,
    Prefetch,
    Q,
    QuerySet,
)
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from markupsafe import Markup, escape

from localsocial.core.models import AuditEvent
from localsocial.core.pagination import KeysetPage, keyset_paginate
from localsocial.directory.models import Organisation, OrganisationMembership, path_ids
from localsocial.stories.models import (
    Criticality,
    ProviderDecision,
    ProviderNotice,
    RejectionTemplate,
    Story,
    StoryRevision,
    StoryService,
    StoryStatus,
    SubmissionRoute,
    Tag,
    TagSuggestion,
)
from localsocial.stories.models.story import SAFEGUARDING_WORDS, VERY_CRITICAL, author_has_email
from localsocial.stories.personal_data import Finding, personal_data_find
from localsocial.stories.selectors.common import RESPONDING_ROLES

if TYPE_CHECKING:
    from localsocial.accounts.models import User

_SAFEGUARDING_RE = re.compile(
    r"(?<![\w])(" + "|".join(re.escape(word) for word in SAFEGUARDING_WORDS) + r")[\w-]*", re.IGNORECASE
)

HISTORY_LIMIT = 50
# What each audited action is called in a story's history.
HISTORY_LABELS = {
    "stories.story_edit": _lazy("Changed the text"),
    "stories.story_criticality": _lazy("Set the criticality"),
    "stories.story_tags": _lazy("Changed the tags"),
    "stories.tag_suggestion_accept": _lazy("Accepted a suggested tag"),
    "stories.tag_suggestion_decline": _lazy("Declined a suggested tag"),
    "stories.story_reject": _lazy("Did not publish it"),
    "stories.story_publish": _lazy("Published it"),
    "stories.story_hold": _lazy("Held it"),
    "stories.story_notice": _lazy("Gave the private provider notice"),
    "stories.story_release": _lazy("Published it when its time came"),
    "stories.story_restrict": _lazy("Restricted it"),
    "stories.story_unrestrict": _lazy("Published it again"),
    "stories.provider_go_ahead": _lazy("The provider said go ahead"),
    "stories.provider_ask_review": _lazy("The provider asked for a review"),
}
DUPLICATES_LIMIT = 10
SECTION_LIMIT = 100


# --- Shared helpers --------------------------------------------------------------------------

def _require_moderator(user: User) -> None:
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.has_perm("stories.moderate")):
        raise PermissionDenied(_("Only moderators can see this page."))


def wait_text(delta: dt.timedelta) -> str:
    """How long something has waited, in words: "25 minutes", "3 hours", "2 days"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        n = max(1, minutes)
        return ngettext("%(n)d minute", "%(n)d minutes", n) % {"n": n}
    hours = minutes // 60
    if hours < 24:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


def safeguarding_words_found(*texts: str) -> list[str]:
    """The words from ``SAFEGUARDING_WORDS`` found in the texts, as written, once each."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in _SAFEGUARDING_RE.finditer(text or ""):
            seen.setdefault(match.group(0).lower(), None)
    return list(seen)


def _services_of(story: Story) -> list[Any]:
    """The services of a story fetched with ``_services_prefetch``, main one first."""
    return [link.service for link in story.service_links]  # type: ignore[attr-defined]


def _services_prefetch() -> Prefetch:
    return Prefetch(
        "story_services",
        queryset=StoryService.objects.select_related("service__organisation").order_by("position"),
        to_attr="service_links",
    )


# --- The queue -------------------------------------------------------------------------------

@dataclass
class QueueRow:
    story: Story
    services: list[Any]
    waited: str
    very_critical: bool
    may_be_critical: bool


@dataclass
class NoticeRow:
    story: Story
    services: list[Any]
    notices: list[ProviderNotice]

    @property
    def review_notices(self) -> list[ProviderNotice]:
        return [n for n in self.notices if n.decision == ProviderDecision.ASK_REVIEW]

    @property
    def latest_deadline(self) -> dt.datetime | None:
        return max((n.deadline for n in self.notices), default=None)


@dataclass
class ModerationQueue:
    page: KeysetPage[Any]
    rows: list[QueueRow]
    waiting_count: int
    oldest_wait: str | None
    held: list[QueueRow]
    held_count: int
    reviews: list[NoticeRow]
    notices: list[NoticeRow]
    notice_count: int


# Urgent first (``Story.queue_urgent``: triaged as very critical, or untriaged with a
# safeguarding word), then the oldest; the index stories_story_pending_urgent reads it in order.
QUEUE_ORDERING = ("-queue_urgent", "submitted_at", "id")


class _Keyed:
    """A row whose datetime sort keys are full ISO strings: ``keyset_paginate`` encodes its
    cursor with DjangoJSONEncoder, which cuts datetimes to milliseconds, so stories sent
    within the same millisecond as a page's last one would repeat on the next page."""

    def __init__(self, row: Any, names: Sequence[str]) -> None:
        self.row = row
        for name in names:
            value = getattr(row, name)
            setattr(self, name, value.isoformat() if isinstance(value, dt.datetime) else value)


def _paginate_exactly(queryset: QuerySet[Any], *, ordering: Sequence[str], cursor: str | None,
                      page_size: int) -> KeysetPage[Any]:
    names = [term.lstrip("-") for term in ordering]

    def fetch(condition: Q | None, order_by: list[str], limit: int) -> list[_Keyed]:
        rows = queryset.filter(condition) if condition is not None else queryset
        return [_Keyed(row, names) for row in rows.order_by(*order_by)[:limit]]

    page = keyset_paginate(fetch, ordering=ordering, cursor=cursor, page_size=page_size)
    page.items = [item.row for item in page.items]
    return page


def moderation_queue(*, user: User, cursor: str | None, page_size: int, now: dt.datetime | None = None) -> ModerationQueue:
    """The moderators' queue: stories waiting (urgent first, then oldest first, a keyset
    page), how many wait and the oldest wait; held stories; stories waiting for private
    providers, with those whose provider asked for a review apart.  Eight queries.

    Raises PermissionDenied for anyone but a moderator, InvalidCursorError for a bad cursor."""
    _require_moderator(user)
    now = now or timezone.now()
    pending = Story.objects.filter(status=StoryStatus.PENDING).prefetch_related(_services_prefetch())
    page = _paginate_exactly(pending, ordering=QUEUE_ORDERING, cursor=cursor, page_size=page_size)
    rows = [
        QueueRow(
            story=s, services=_services_of(s), waited=wait_text(now - s.submitted_at),
            very_critical=s.criticality is not None and s.criticality >= VERY_CRITICAL,
            may_be_critical=s.criticality is None and bool(s.queue_urgent),
        )
        for s in page.items
    ]
    counts: dict[str, dict[str, Any]] = {
        row["status"]: dict(row)
        for row in Story.objects.filter(status__in=[StoryStatus.PENDING, StoryStatus.HELD, StoryStatus.NOTICE])
        .values("status").annotate(n=Count("id"), oldest=Min("submitted_at")).order_by()
    }
    pending_counts = counts.get(StoryStatus.PENDING) or {"n": 0, "oldest": None}
    held = [
        QueueRow(
            story=s, services=_services_of(s), waited=wait_text(now - s.submitted_at),
            very_critical=s.criticality is not None and s.criticality >= VERY_CRITICAL, may_be_critical=False,
        )
        for s in Story.objects.filter(status=StoryStatus.HELD).order_by("held_until", "id")
        .prefetch_related(_services_prefetch())[:SECTION_LIMIT]
    ]
    notice_rows = [
        NoticeRow(story=s, services=_services_of(s), notices=list(s.notice_list))
        for s in Story.objects.filter(status=StoryStatus.NOTICE).order_by("submitted_at", "id").prefetch_related(
            _services_prefetch(),
            Prefetch(
                "provider_notices",
                queryset=ProviderNotice.objects.select_related("organisation").order_by("deadline", "id"),
                to_attr="notice_list",
            ),
        )[:SECTION_LIMIT]
    ]
    return ModerationQueue(
        page=page, rows=rows, waiting_count=pending_counts["n"],
        oldest_wait=wait_text(now - pending_counts["oldest"]) if pending_counts["oldest"] else None,
        held=held, held_count=counts.get(StoryStatus.HELD, {"n": 0})["n"],
        reviews=[r for r in notice_rows if r.review_notices],
        notices=[r for r in notice_rows if not r.review_notices],
        notice_count=counts.get(StoryStatus.NOTICE, {"n": 0})["n"],
    )


# --- Diffs and highlights --------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text or "")


def _marked(tag: str, start: str, end: str, text: str) -> Markup:
    return Markup('<{tag} class="ls-diff__{tag}"><span class="govuk-visually-hidden">[{start} </span>{text}'
                  '<span class="govuk-visually-hidden"> {end}]</span></{tag}>').format(
        tag=tag, start=start, text=text, end=end,
    )


def text_diff_html(old: str, new: str) -> Markup:
    """The change from ``old`` to ``new`` word by word, as safe HTML: every piece of text is
    escaped; removed words are in ``<del>`` and added words in ``<ins>``, each announced to
    screen readers ("removed:", "added:")."""
    old_tokens, new_tokens = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=old_tokens, b=new_tokens, autojunk=False)
    parts: list[Markup] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(old_tokens[a1:a2])))
            continue
        if op in ("delete", "replace"):
            parts.append(_marked("del", _("removed:"), _("end of removed text"), "".join(old_tokens[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(_marked("ins", _("added:"), _("end of added text"), "".join(new_tokens[b1:b2])))
    return _line_breaks(Markup("").join(parts))


def text_html(text: str) -> Markup:
    """Plain text as safe HTML, escaped, with its line breaks kept."""
    return _line_breaks(escape(text or ""))


def _line_breaks(html: Markup) -> Markup:
    # Newlines are text, never inside a tag's attributes, so a <br> can follow each.
    return Markup(str(html).replace("\n", "<br>\n"))  # noqa: S704 -- built from escaped parts


def personal_data_kind_label(kind: str) -> str:
    return {
        "email": _("email address"), "phone": _("phone number"), "nhs_number": _("NHS number"),
        "postcode": _("postcode"), "date": _("exact date"), "name": _("name"),
    }.get(kind, kind)


def personal_data_highlight(text: str, findings: Sequence[Finding]) -> Markup:
    """``text`` escaped, with each finding in ``<mark>`` and its kind said to screen readers."""
    parts: list[Markup] = []
    cursor = 0
    for finding in findings:
        parts.append(escape(text[cursor:finding.start]))
        parts.append(Markup('<mark class="ls-personal-data">{text}<span class="govuk-visually-hidden"> '
                            "({label})</span></mark>").format(
            text=finding.text, label=_("possible %(kind)s") % {"kind": personal_data_kind_label(finding.kind)},
        ))
        cursor = finding.end
    parts.append(escape(text[cursor:]))
    return _line_breaks(Markup("").join(parts))


# --- One story -------------------------------------------------------------------------------

@dataclass
class RevisionView:
    revision: StoryRevision | None  # None: the story's current text, not yet kept as a revision
    title_diff: Markup | None = None
    body_diff: Markup | None = None
    feelings_diff: Markup | None = None


@dataclass
class HighlightedText:
    title: Markup
    body: Markup
    feelings: Markup
    findings: list[tuple[str, Finding]]  # (which part, finding)


@dataclass
class HistoryItem:
    event: AuditEvent
    label: str


@dataclass
class StoryModeration:
    story: Story
    author_has_email: bool
    services: list[Any]
    tags: list[Tag]
    tag_choices: list[Tag]
    original: StoryRevision | None
    original_html: dict[str, Markup]
    changes: list[RevisionView]
    highlighted: HighlightedText
    safeguarding_words: list[str]
    duplicates: list[Story]
    same_author: list[Story]
    suggestions: list[TagSuggestion]
    templates: list[RejectionTemplate]
    notices: list[ProviderNotice]
    private_providers: list[Organisation]
    history: list[HistoryItem]
    criticality_choices: list[tuple[int, Any]] = field(default_factory=lambda: list(Criticality.choices))

    @property
    def can_hold(self) -> bool:
        return (
            self.story.status == StoryStatus.PENDING and not self.private_providers
            and self.story.criticality is not None and self.story.criticality >= VERY_CRITICAL
        )


def _revision_views(revisions: list[StoryRevision], story: Story) -> list[RevisionView]:
    sequence: list[tuple[StoryRevision | None, str, str, str]] = [
        (r, r.title, r.body, r.feelings) for r in revisions
    ]
    if sequence and (sequence[-1][1], sequence[-1][2], sequence[-1][3]) != (story.title, story.body, story.feelings):
        sequence.append((None, story.title, story.body, story.feelings))
    views: list[RevisionView] = []
    for previous, current in itertools.pairwise(sequence):
        views.append(RevisionView(
            revision=current[0],
            title_diff=text_diff_html(previous[1], current[1]) if previous[1] != current[1] else None,
            body_diff=text_diff_html(previous[2], current[2]) if previous[2] != current[2] else None,
            feelings_diff=text_diff_html(previous[3], current[3]) if previous[3] != current[3] else None,
        ))
    return views


def _highlighted(story: Story) -> HighlightedText:
    parts = {name: getattr(story, name) or "" for name in ("title", "body", "feelings")}
    found = {name: personal_data_find(text) for name, text in parts.items()}
    return HighlightedText(
        title=personal_data_highlight(parts["title"], found["title"]),
        body=personal_data_highlight(parts["body"], found["body"]),
        feelings=personal_data_highlight(parts["feelings"], found["feelings"]),
        findings=[(name, f) for name in ("title", "body", "feelings") for f in found[name]],
    )


def story_get_for_moderation(*, user: User, story_id: int) -> StoryModeration:
    """One story with all a moderator needs: the author's private details, the current text
    with personal data highlighted, the original and each change as a diff, possible
    duplicates, tags and suggestions, rejection reasons, provider notices and the story's
    audit history.  Twelve queries however many revisions or tags it has.

    Raises PermissionDenied for anyone but a moderator (the page shows the author's email and
    the original text), Http404 when there is no such story."""
    _require_moderator(user)
    story = (
        Story.objects.select_related("author", "entered_by", "moderated_by")
        .prefetch_related(_services_prefetch()).filter(pk=story_id).first()
    )
    if story is None:
        raise Http404("No such story")
    services = _services_of(story)
    tags = list(story.tags.order_by("polarity", "name"))
    tag_ids = {t.pk for t in tags}
    tag_choices = list(Tag.objects.filter(Q(is_active=True) | Q(pk__in=tag_ids)).order_by("polarity", "name"))
    revisions = list(StoryRevision.objects.filter(story=story).select_related("edited_by").order_by("created_at", "id"))
    original = next((r for r in revisions if r.kind == StoryRevision.Kind.ORIGINAL), None)
    org_ids: set[int] = set()
    for service in services:
        org_ids.update(path_ids(service.organisation.path) or [service.organisation_id])
    return StoryModeration(
        story=story,
        author_has_email=author_has_email(story),
        services=services,
        tags=tags,
        tag_choices=tag_choices,
        original=original,
        original_html={
            name: text_html(getattr(original, name)) for name in ("title", "body", "feelings")
        } if original is not None else {},
        changes=_revision_views(revisions, story),
        highlighted=_highlighted(story),
        safeguarding_words=safeguarding_words_found(story.title, story.body, story.feelings),
        duplicates=list(
            Story.objects.filter(text_hash=story.text_hash).exclude(pk=story.pk)
            .only("id", "title", "status", "submitted_at").order_by("-submitted_at", "-id")[:DUPLICATES_LIMIT]
        ),
        same_author=list(
            Story.objects.filter(author_email=story.author_email).exclude(pk=story.pk)
            .only("id", "title", "status", "submitted_at").order_by("-submitted_at", "-id")[:DUPLICATES_LIMIT]
        ),
        suggestions=list(TagSuggestion.objects.filter(story=story, decided_at__isnull=True).order_by("polarity", "name")),
        templates=list(RejectionTemplate.objects.filter(is_active=True).order_by("title")),
        notices=list(
            ProviderNotice.objects.filter(story=story).select_related("organisation", "decided_by").order_by("deadline", "id")
        ),
        private_providers=list(
            Organisation.objects.filter(pk__in=org_ids, is_private_provider=True).order_by("depth", "name")
        ),
        history=[
            HistoryItem(event=event, label=str(HISTORY_LABELS.get(event.action, event.action)))
            for event in AuditEvent.objects.filter(target_type="stories.story", target_id=str(story.pk))
            .order_by("-created_at", "-id")[:HISTORY_LIMIT]
        ],
    )


# --- Rejection templates ---------------------------------------------------------------------

def rejection_templates_for_moderators(*, user: User) -> list[RejectionTemplate]:
    """Every rejection template, those in use first.  Moderators only."""
    _require_moderator(user)
    return list(RejectionTemplate.objects.order_by("-is_active", "title"))


def rejection_template_get(*, user: User, template_id: int) -> RejectionTemplate:
    _require_moderator(user)
    template = RejectionTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise Http404("No such template")
    return template


# --- The provider's page ---------------------------------------------------------------------

@dataclass
class ProviderNoticePage:
    notice: ProviderNotice
    story: Story
    services: list[Any]
    can_answer: bool


def provider_notice_get_for_staff(*, user: User, notice_id: int, now: dt.datetime | None = None) -> ProviderNoticePage:
    """A notice for the staff of the private provider it went to: an administrator or
    responder of that organisation or of one above it.  Anyone else gets Http404, so that
    other organisations cannot even learn that the notice exists.  Three queries."""
    now = now or timezone.now()
    notice = (
        ProviderNotice.objects.select_related("organisation", "story", "decided_by").filter(pk=notice_id).first()
        if getattr(user, "is_authenticated", False) else None
    )
    if notice is None or not OrganisationMembership.objects.filter(
        user=user, role__in=RESPONDING_ROLES, organisation_id__in=notice.organisation.lineage_ids
    ).exists():
        raise Http404("No such notice")
    story = notice.story
    services = [
        link.service
        for link in StoryService.objects.filter(story=story).select_related("service").order_by("position")
    ]
    can_answer = (
        story.status == StoryStatus.NOTICE and notice.decision == ProviderDecision.WAITING and notice.deadline > now
    )
    return ProviderNoticePage(notice=notice, story=story, services=services, can_answer=can_answer)


# --- Figures ---------------------------------------------------------------------------------

@dataclass
class WeekFigures:
    week_start: dt.date
    published: int
    rejected: int
    median_hours: float | None
    p90_hours: float | None


@dataclass
class ModerationFigures:
    weeks: list[WeekFigures]
    waiting_count: int
    oldest_wait: str | None
    routes: list[tuple[str, int]]
    since: dt.date


def percentile_nearest_rank(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``percent`` % of the
    values at or below it (p90 of 1…10 is 9)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def _week_start(moment: dt.datetime) -> dt.date:
    day = timezone.localtime(moment).date()
    return day - dt.timedelta(days=day.weekday())


def moderation_figures(*, user: User, now: dt.datetime | None = None, weeks: int = 12) -> ModerationFigures:
    """For each of the last ``weeks`` weeks (Monday to Sunday, this week last): stories
    published and rejected, and the median and 90th percentile (nearest rank) of the hours
    from submission to publication of the stories published that week; the queue now; and
    stories received in those weeks by route.  Four queries, each bounded by the window."""
    _require_moderator(user)
    now = now or timezone.now()
    this_week = _week_start(now)
    first_week = this_week - dt.timedelta(weeks=weeks - 1)
    start = timezone.make_aware(dt.datetime.combine(first_week, dt.time()), timezone.get_current_timezone())
    durations: dict[dt.date, list[float]] = {first_week + dt.timedelta(weeks=i): [] for i in range(weeks)}
    for submitted_at, published_at in Story.objects.filter(
        published_at__gte=start, published_at__lte=now
    ).values_list("submitted_at", "published_at"):
        if published_at is None:
            continue
        bucket = durations.get(_week_start(published_at))
        if bucket is not None:
            bucket.append(max(0.0, (published_at - submitted_at).total_seconds() / 3600))
    rejected = Counter(
        _week_start(moment)
        for moment in Story.objects.filter(
            status=StoryStatus.REJECTED, moderated_at__gte=start, moderated_at__lte=now
        ).values_list("moderated_at", flat=True)
        if moment is not None
    )
    queue = Story.objects.filter(status=StoryStatus.PENDING).aggregate(n=Count("id"), oldest=Min("submitted_at"))
    by_route = dict(
        Story.objects.filter(submitted_at__gte=start, submitted_at__lte=now)
        .values_list("route").annotate(n=Count("id")).order_by()
    )
    return ModerationFigures(
        weeks=[
            WeekFigures(
                week_start=week, published=len(hours), rejected=rejected.get(week, 0),
                median_hours=round(statistics.median(hours), 1) if hours else None,
                p90_hours=round(percentile_nearest_rank(hours, 90), 1) if hours else None,
            )
            for week, hours in sorted(durations.items())
        ],
        waiting_count=queue["n"],
        oldest_wait=wait_text(now - queue["oldest"]) if queue["oldest"] else None,
        routes=[(str(label), by_route.get(value, 0)) for value, label in SubmissionRoute.choices],
        since=first_week,
    )


def moderation_figures_chart(figures: ModerationFigures) -> str:
    """The time-to-publish figures as an SVG line chart (pygal), as a ``data:`` address for an
    ``<img>``: no script, and the page's table holds the same numbers for everyone."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="#ffffff", plot_background="#ffffff", foreground="#0b0c0c", foreground_strong="#0b0c0c",
        foreground_subtle="#505a5f", colors=("#1d70b8", "#d4351c"), font_family="Arial, sans-serif",
        label_font_size=14, major_label_font_size=14, legend_font_size=14, title_font_size=16,
    )
    chart = pygal.Line(
        style=style, js=[], width=800, height=360, show_dots=True, dots_size=4, x_label_rotation=30,
        legend_at_bottom=True, allow_interruptions=True, disable_xml_declaration=False,
        title=_("Hours from submission to publication"), print_values=False,
    )
    chart.x_labels = [f"{w.week_start:%d %b}" for w in figures.weeks]
    chart.add(_("Median"), [w.median_hours for w in figures.weeks])
    chart.add(_("90th percentile"), [w.p90_hours for w in figures.weeks])
    svg = chart.render()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
