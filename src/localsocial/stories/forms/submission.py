"""Forms for telling a story, entering one for someone, and the author's edit.

The forms only read what was typed; every rule (word limit, dates, services, tags) is checked
by the services (``stories.services.submission``), the same for the web, assisted entry and
the API.  ``apply_errors`` puts the service's messages on the right fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from localsocial.stories.models import (
    AgeGroup,
    AuthorRole,
    Story,
    SubmissionRoute,
    Tag,
    TagPolarity,
)
from localsocial.stories.personal_data import Finding, personal_data_find

# The free-text fields checked for personal data, in the order they appear.
CHECKED_FIELDS = ("title", "body", "feelings")
EXCERPT_CONTEXT = 40  # characters shown either side of a finding


@dataclass
class PersonalDataWarning:
    """One piece of personal data found in a field, ready to show."""

    field: str
    kind: str
    text: str
    reason: str
    before: str  # the text just before it ("…" when cut)
    after: str  # the text just after it
    start: int
    end: int

    @property
    def excerpt(self) -> SafeString:
        """The text around the finding, escaped, with the finding in <mark>.  Each slice of
        the original text is escaped on its own, so nothing the author typed becomes HTML."""
        return mark_safe(  # every piece is escaped just below
            f"{escape(self.before)}<mark>{escape(self.text)}</mark>{escape(self.after)}"
        )


def _around(text: str, finding: Finding) -> tuple[str, str]:
    """The text either side of ``finding`` (up to ``EXCERPT_CONTEXT`` characters each)."""
    start = max(0, finding.start - EXCERPT_CONTEXT)
    end = min(len(text), finding.end + EXCERPT_CONTEXT)
    before = ("…" if start > 0 else "") + text[start : finding.start]
    after = text[finding.end : end] + ("…" if end < len(text) else "")
    return before, after


def personal_data_warnings(values: dict[str, str]) -> list[PersonalDataWarning]:
    """Every finding in the checked fields of ``values`` (field name → text), in form order."""
    warnings: list[PersonalDataWarning] = []
    for name in CHECKED_FIELDS:
        text = values.get(name) or ""
        for finding in personal_data_find(text):
            before, after = _around(text, finding)
            warnings.append(
                PersonalDataWarning(field=name, kind=finding.kind, text=finding.text, reason=finding.reason,
                        before=before, after=after, start=finding.start, end=finding.end)
            )
    return warnings


def _split_suggestions(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").split(",") if part.strip()]


class StoryTextForm(forms.Form):
    """What an author writes: used to tell a story and to edit it before moderation."""

    title = forms.CharField(
        label=_("Give your story a title"),
        help_text=_("A few words that sum it up, like “Kind staff but a long wait”"),
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": True}),
    )
    body = forms.CharField(
        label=_("What happened?"),
        help_text=_("Tell it in your own words. Do not include names, phone numbers or other details that could identify you or anyone else."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    feelings = forms.CharField(
        label=_("How did it make you feel? (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    tags_good = forms.MultipleChoiceField(
        label=_("What was good? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose tags from the list")},
    )
    suggest_good = forms.CharField(
        label=_("Suggest something else that was good (optional)"),
        help_text=_("Separate suggestions with commas. A moderator will look at them."),
        required=False,
    )
    tags_improve = forms.MultipleChoiceField(
        label=_("What could be improved? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose tags from the list")},
    )
    suggest_improve = forms.CharField(
        label=_("Suggest something else that could be improved (optional)"),
        help_text=_("Separate suggestions with commas. A moderator will look at them."),
        required=False,
    )
    author_role = forms.ChoiceField(
        label=_("Who are you?"),
        choices=AuthorRole.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose who you are")},
    )
    age_group = forms.ChoiceField(
        label=_("Your age group (optional)"),
        choices=[*AgeGroup.choices, ("", _("I prefer not to say"))],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose an age group from the list")},
    )
    happened_month = forms.CharField(label=_("Month"), required=False, widget=forms.TextInput)
    happened_year = forms.CharField(label=_("Year"), required=False, widget=forms.TextInput)
    pseudonym = forms.CharField(
        label=_("The name to show with your story"),
        help_text=_("Not your real name, for example “Worried daughter” or “Local resident”"),
        required=False,
    )
    personal_data_confirmed = forms.BooleanField(
        label=_("I have checked, send it anyway"),
        help_text=_("For example, when a name is of a public figure, or a number is not personal."),
        required=False,
    )

    # Service field names → this form's fields.
    error_fields = {
        "tag_ids": "tags_good",
        "suggested_tags": "suggest_good",
        "happened_month": "happened_month",
    }

    def __init__(self, *args: Any, tags: dict[str, list[Tag]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tags = tags or {}
        self.fields["tags_good"].choices = [(str(t.pk), t.name) for t in tags.get(TagPolarity.GOOD, [])]  # type: ignore[attr-defined]
        self.fields["tags_improve"].choices = [(str(t.pk), t.name) for t in tags.get(TagPolarity.IMPROVE, [])]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        month_text = (data.get("happened_month") or "").strip()
        year_text = (data.get("happened_year") or "").strip()
        data["month_date"] = None
        if not month_text and not year_text:
            return data  # the service says "Enter the month and year it happened"
        if not month_text:
            self.add_error("happened_month", gettext("The date must include a month"))
        elif not year_text:
            self.add_error("happened_month", gettext("The date must include a year"))
        elif not month_text.isdigit() or not 1 <= int(month_text) <= 12:
            self.add_error("happened_month", gettext("Enter the month as a number from 1 to 12"))
        elif not year_text.isdigit() or len(year_text) != 4:
            self.add_error("happened_month", gettext("Enter the year as 4 numbers, like 2025"))
        else:
            data["month_date"] = date(int(year_text), int(month_text), 1)
        return data

    def month_is_missing(self) -> bool:
        return not self.cleaned_data.get("month_date") and "happened_month" not in self.errors

    def service_kwargs(self) -> dict[str, Any]:
        """The arguments for ``story_submit``/``story_author_edit`` from the cleaned form."""
        data = self.cleaned_data
        suggestions = [(name, TagPolarity.GOOD.value) for name in _split_suggestions(data.get("suggest_good", ""))]
        suggestions += [(name, TagPolarity.IMPROVE.value) for name in _split_suggestions(data.get("suggest_improve", ""))]
        return {
            "title": data.get("title", ""),
            "body": data.get("body", ""),
            "feelings": data.get("feelings", ""),
            "tag_ids": [*data.get("tags_good", []), *data.get("tags_improve", [])],
            "suggested_tags": suggestions,
            "author_role": data.get("author_role", ""),
            "age_group": data.get("age_group", ""),
            "happened_month": data.get("month_date"),
            "pseudonym": data.get("pseudonym", ""),
        }

    def apply_errors(self, error: ValidationError) -> None:
        """Put a service's ValidationError on the form, field by field (errors about things
        the form does not show go to the top)."""
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                self.add_error(None, message)
            return
        for key, errors in error.message_dict.items():
            if key == "happened_month" and "happened_month" in self.errors:
                continue  # the form's own message about the date is the more precise one
            name = self.error_fields.get(key, key)
            target = name if name in self.fields else None
            for message in errors:
                self.add_error(target, message)

    def warnings(self) -> list[PersonalDataWarning]:
        """The personal data in what was typed (works on a bound form, valid or not)."""
        return personal_data_warnings({name: str(self.data.get(name, "")) for name in CHECKED_FIELDS})

    @classmethod
    def initial_from_story(cls, story: Story) -> dict[str, Any]:
        tag_ids = {t.pk: t for t in story.tags.all()}
        suggestions = list(story.tag_suggestions.all())
        return {
            "title": story.title,
            "body": story.body,
            "feelings": story.feelings,
            "tags_good": [str(pk) for pk, t in tag_ids.items() if t.polarity == TagPolarity.GOOD],
            "tags_improve": [str(pk) for pk, t in tag_ids.items() if t.polarity == TagPolarity.IMPROVE],
            "suggest_good": ", ".join(s.name for s in suggestions if s.polarity == TagPolarity.GOOD),
            "suggest_improve": ", ".join(s.name for s in suggestions if s.polarity == TagPolarity.IMPROVE),
            "author_role": story.author_role,
            "age_group": story.age_group,
            "happened_month": str(story.happened_month.month),
            "happened_year": str(story.happened_month.year),
            "pseudonym": story.pseudonym,
        }


class StoryTellForm(StoryTextForm):
    """Telling a story on the website."""

    email = forms.CharField(
        label=_("Your email address"),
        help_text=_("Only our moderators see it. We send you a private link to your story, and tell you when it is published or answered."),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": False}),
    )
    # The honeypot: people never see it (the template hides it from screens and from
    # assistive technology, and takes it out of the tab order); simple bots fill it in.
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def honeypot_filled(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())


class StoryAssistedForm(StoryTellForm):
    """A member of staff enters a story told on the phone or on a paper form."""

    route = forms.ChoiceField(
        label=_("How did the story reach you?"),
        choices=[(SubmissionRoute.PHONE.value, _("A phone call")), (SubmissionRoute.PAPER.value, _("A paper form"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the story reached you"),
                        "invalid_choice": _("Choose how the story reached you")},
    )
    consent = forms.BooleanField(
        label=_("The person agreed to us sharing their story"),
        help_text=_("They understand it will be published without their name, and that services will answer it in public."),
        required=False,
    )
    consent_note = forms.CharField(
        label=_("How did they give their consent?"),
        help_text=_("For example, “Agreed on the phone after I read the terms to them” or “Signed box on the paper form”"),
        required=False,
    )

    field_order = ["route", "consent", "consent_note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("Their email address (optional)")
        self.fields["email"].help_text = _(
            "Only moderators see it. We send them a private link to their story. If they have no "
            "email address, leave this empty: we send the private link to you instead, so that you "
            "can tell them about the story's progress."
        )
        self.fields["pseudonym"].help_text = _("Ask them for a name to show that is not their real name")
        self.fields["author_role"].label = _("Who are they?")
        self.fields["age_group"].label = _("Their age group (optional)")
