"""Forms for readers: the filters and search box of every list, and following a story."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from localsocial.core.search import search_parse
from localsocial.stories.models import Progress
from localsocial.stories.selectors.reading import NEWEST, OLDEST, ListFilters

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y", "%Y-%m-%d"]
EARLIEST = dt.date(2000, 1, 1)


class StoryListForm(forms.Form):
    """The GET form above every list: search words, dates, progress and order.  Invalid
    values are reported in plain words (the list is then shown without filters)."""

    q = forms.CharField(
        label=_("Search stories"), required=False, max_length=500, strip=True,
        help_text=_('All the words must appear. Use "quotes" for a phrase and a minus sign to leave a word out, like -parking.'),
    )
    published_from = forms.DateField(
        label=_("Published on or after"), required=False, input_formats=DATE_FORMATS,
        help_text=_("For example, 1/3/2026"), error_messages={"invalid": _("Enter a real date, like 1/3/2026")},
    )
    published_to = forms.DateField(
        label=_("Published on or before"), required=False, input_formats=DATE_FORMATS,
        help_text=_("For example, 31/3/2026"), error_messages={"invalid": _("Enter a real date, like 31/3/2026")},
    )
    progress = forms.TypedChoiceField(
        label=_("Progress"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any"))] + [(str(choice.value), choice.label) for choice in Progress],
        error_messages={"invalid_choice": _("Choose a stage of progress from the list")},
    )
    sort = forms.ChoiceField(
        label=_("Order"), required=False,
        choices=[(NEWEST, _("Newest first")), (OLDEST, _("Oldest first"))],
        error_messages={"invalid_choice": _("Choose newest first or oldest first")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("published_from", "published_to"):
            self.fields[name].widget.attrs.update({"autocomplete": "off", "spellcheck": False})
        self.fields["q"].widget.attrs.update({"spellcheck": False})

    def clean_published_from(self) -> dt.date | None:
        return self._in_range("published_from")

    def clean_published_to(self) -> dt.date | None:
        return self._in_range("published_to")

    def _in_range(self, name: str) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get(name)
        if value is not None and not (EARLIEST <= value <= dt.date.today() + dt.timedelta(days=366)):
            raise forms.ValidationError(_("Enter a date between 2000 and next year"))
        return value

    def clean_q(self) -> str:
        text: str = self.cleaned_data.get("q") or ""
        if text:
            query = search_parse(text)
            if query.is_empty:
                raise forms.ValidationError(_("Enter words to search for, using letters or numbers"))
            if not query.has_positive_terms:
                raise forms.ValidationError(_("Enter a word to look for, as well as the words to leave out"))
        return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("published_from"), data.get("published_to")
        if start and end and start > end:
            self.add_error("published_to", _("The second date must be the same as or after the first"))
        return data

    def filters(self) -> ListFilters:
        """The filters as the list selector takes them (call after ``is_valid``)."""
        data = self.cleaned_data
        text = data.get("q") or ""
        return ListFilters(
            query=search_parse(text) if text else None,
            progress=data.get("progress"),
            published_from=data.get("published_from"),
            published_to=data.get("published_to"),
            sort=data.get("sort") or NEWEST,
        )

    @property
    def has_filters(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(name) not in (None, "") for name in ("published_from", "published_to", "progress")) or (
            data.get("sort") == OLDEST
        )


class FollowForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"), max_length=254,
        help_text=_("We will send you a link to confirm. We use this address only for news of this story."),
        error_messages={
            "required": _("Enter your email address"),
            "invalid": _("Enter an email address in the correct format, like name@example.com"),
        },
    )
