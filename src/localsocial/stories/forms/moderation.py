"""Forms for moderation: each decision on the story moderation page, rejection templates, and
the private provider's request for a review."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from localsocial.stories.models import Criticality, RejectionTemplate, Tag
from localsocial.stories.models.story import BODY_MAX_CHARS, TITLE_MAX


class StoryEditForm(forms.Form):
    title = forms.CharField(
        label=_("Title"), max_length=TITLE_MAX,
        error_messages={"required": _("Enter a title"),
                        "max_length": _("The title must be %(limit_value)d characters or fewer")},
    )
    body = forms.CharField(
        label=_("What happened"), max_length=BODY_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": _("Enter what happened")},
    )
    feelings = forms.CharField(
        label=_("How it felt (optional)"), max_length=BODY_MAX_CHARS, required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    reason = forms.CharField(
        label=_("Why are you changing it?"),
        help_text=_("For example: removed a member of staff's name; removed a claim that could be defamatory. "
                    "Moderators see this; the author and the public do not."),
        max_length=300,
        error_messages={"required": _("Enter why you are changing the story"),
                        "max_length": _("The reason must be 300 characters or fewer")},
    )


class CriticalityForm(forms.Form):
    criticality = forms.TypedChoiceField(
        label=_("How critical is the story?"), choices=Criticality.choices, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("Choose how critical the story is"),
                        "invalid_choice": _("Choose how critical the story is, from 0 to 5")},
    )


class TagsForm(forms.Form):
    tags = forms.MultipleChoiceField(
        label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose tags from the list")},
    )

    def __init__(self, *args: Any, tag_choices: Iterable[Tag] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tags"].choices = [  # type: ignore[attr-defined]
            (str(t.pk), f"{t.name} ({t.get_polarity_display()})" + ("" if t.is_active else f" ({_('retired')})"))
            for t in tag_choices
        ]

    def clean_tags(self) -> list[int]:
        return [int(v) for v in self.cleaned_data["tags"]]


class PublishForm(forms.Form):
    hold = forms.BooleanField(
        label=_("Hold it before publishing, so the service can prepare"), required=False,
    )


class RejectForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Why is it not being published?"), queryset=RejectionTemplate.objects.none(),
        widget=forms.RadioSelect, empty_label=None,
        help_text=_("The author is sent this reason."),
        error_messages={"required": _("Choose a reason"), "invalid_choice": _("Choose a reason from the list")},
    )
    note = forms.CharField(
        label=_("A note to the author (optional)"),
        help_text=_("Added after the reason in the email to the author."),
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": _("The note must be 2000 characters or fewer")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        field.queryset = RejectionTemplate.objects.filter(is_active=True).order_by("title")  # type: ignore[attr-defined]
        field.label_from_instance = lambda t: t.title  # type: ignore[attr-defined]


class RestrictForm(forms.Form):
    restricted_by = forms.CharField(
        label=_("Who is restricting it?"), max_length=200, initial=_("the moderators"),
        help_text=_("Shown on the public page: “Restricted by the moderators”."),
        error_messages={"required": _("Enter who is restricting the story"),
                        "max_length": _("This must be 200 characters or fewer")},
    )
    reason = forms.CharField(
        label=_("Why?"), max_length=300, help_text=_("Shown on the public page. For example: legal advice."),
        error_messages={"required": _("Enter why the story is restricted"),
                        "max_length": _("The reason must be 300 characters or fewer")},
    )


class RejectionTemplateForm(forms.Form):
    title = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Moderators choose the reason by this name."),
        error_messages={"required": _("Enter a name for the reason"),
                        "max_length": _("The name must be 100 characters or fewer")},
    )
    body = forms.CharField(
        label=_("Message to the author"), widget=forms.Textarea(attrs={"rows": 8}), max_length=5000,
        help_text=_("Written to the author: say why their story cannot be published and what they could do."),
        error_messages={"required": _("Enter the message to the author"),
                        "max_length": _("The message must be 5000 characters or fewer")},
    )


class ProviderReviewForm(forms.Form):
    note = forms.CharField(
        label=_("What would you like the moderators to review?"), max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For example: the story names a member of staff, or says something that is not true. "
                    "The moderators read this; the author and the public do not."),
        error_messages={"required": _("Enter what you would like the moderators to review"),
                        "max_length": _("This must be 3000 characters or fewer")},
    )
