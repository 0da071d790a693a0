"""Forms for responding, moderating responses, the author's actions and organisation settings.

The forms check what a person typed; the services check the rules again (the API uses them
without a form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from localsocial.stories.models import ChangeKind, SignatureStyle
from localsocial.stories.models.responses import RESPONSE_MAX_CHARS
from localsocial.stories.services.responses import (
    CHANGE_DESCRIPTION_MAX_CHARS,
    CONFIRMATION_NOTE_MAX_CHARS,
    PROVIDER_NOTICE_HOURS_MAX,
    REJECTION_REASON_MAX_CHARS,
    TEMPLATE_TITLE_MAX,
)

CHANGE_CHOICES = [
    (ChangeKind.NONE.value, _("No")),
    (ChangeKind.PLANNED.value, _("Yes, a change is planned")),
    (ChangeKind.MADE.value, _("Yes, a change has been made")),
]


class ResponseTextForm(forms.Form):
    """The text of a response and whether it describes a change.  There is one description box
    per kind of change, so that each can be revealed under its own choice (GOV.UK conditional
    radios); without JavaScript both show and the one matching the choice is used."""

    body = forms.CharField(
        label=_("Your response"),
        max_length=RESPONSE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": _("Enter your response"),
                        "max_length": _("Your response must be 10,000 characters or fewer")},
        help_text=_("This is published under the story, signed as your organisation has chosen."),
    )
    change = forms.ChoiceField(
        label=_("Does this response describe a change?"),
        choices=CHANGE_CHOICES,
        required=False,
        initial=ChangeKind.NONE.value,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose whether this response describes a change")},
    )
    planned_description = forms.CharField(
        label=_("What change is planned?"),
        required=False,
        max_length=CHANGE_DESCRIPTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say what will change and when. The author will be asked whether it happened."),
    )
    made_description = forms.CharField(
        label=_("What change has been made?"),
        required=False,
        max_length=CHANGE_DESCRIPTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say what has changed. The author will be asked to confirm it."),
    )

    def description_field(self, change: str) -> str:
        return "made_description" if change == ChangeKind.MADE else "planned_description"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        change = data.get("change") or ""
        data["change"] = change
        description = (data.get(self.description_field(change)) or "").strip() if change else ""
        if change and not description:
            self.add_error(self.description_field(change), _("Describe the change"))
        data["change_description"] = description
        return data

    def service_error_field(self, name: str) -> str | None:
        """Where to show a service's error about ``name`` on this form."""
        if name == "change_description":
            return self.description_field(self.data.get("change", ""))
        return name if name in self.fields else None


class RespondForm(ResponseTextForm):
    """The respond page: for whom (when the responder answers for several organisations)."""

    organisation = forms.TypedChoiceField(
        label=_("Respond on behalf of"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the organisation you are responding for"),
                        "invalid_choice": _("Choose the organisation you are responding for")},
    )

    def __init__(self, *args: Any, organisations: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisations  # type: ignore[attr-defined]
        self.order_fields(["organisation", "body", "change", "planned_description", "made_description"])


class TemplatePickForm(forms.Form):
    """The GET form that fills the response box with a template (no JavaScript needed)."""

    template = forms.TypedChoiceField(label=_("Start from a template"), coerce=int, required=False)

    def __init__(self, *args: Any, templates: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _("Choose a template")), *templates]  # type: ignore[attr-defined]


class AuthorReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=RESPONSE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Enter your reply"),
                        "max_length": _("Your reply must be 10,000 characters or fewer")},
        help_text=_("A moderator checks every reply before it is published under your story's name."),
    )


class ChangeConfirmForm(forms.Form):
    happened = forms.TypedChoiceField(
        label=_("Did this change happen?"),
        choices=[("yes", _("Yes, it happened")), ("no", _("Not yet"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the change happened")},
    )
    note = forms.CharField(
        label=_("Anything to add? (optional)"),
        required=False,
        max_length=CONFIRMATION_NOTE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Your comment is shown with your answer under the story."),
    )


class ResponseRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it not being published?"),
        max_length=REJECTION_REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Enter the reason, which is sent to the writer")},
        help_text=_("This is emailed to the person who wrote it. Say what they could change."),
    )


class OrganisationSettingsForm(forms.Form):
    signature_style = forms.ChoiceField(
        label=_("How should responses be signed?"),
        choices=SignatureStyle.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how responses are signed")},
    )
    provider_notice_hours = forms.IntegerField(
        label=_("Notice window for a private provider, in hours"),
        min_value=1,
        max_value=PROVIDER_NOTICE_HOURS_MAX,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
        help_text=_("How long a private provider has to read a story about them before it is published."),
        error_messages={
            "required": _("Enter the notice window in hours"),
            "invalid": _("Enter the notice window as a whole number of hours"),
            "min_value": _("The notice window must be between 1 and 720 hours"),
            "max_value": _("The notice window must be between 1 and 720 hours"),
        },
    )


class ResponseTemplateForm(forms.Form):
    title = forms.CharField(
        label=_("Name"),
        max_length=TEMPLATE_TITLE_MAX,
        help_text=_("Responders choose templates by this name."),
        error_messages={"required": _("Enter a name for the template"),
                        "max_length": _("The name must be 100 characters or fewer")},
    )
    body = forms.CharField(
        label=_("Text"),
        max_length=RESPONSE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "You can use {author_name}, {story_title}, {organisation_name}, {responder_name} and "
            "{job_title}: they are filled in when a responder chooses the template."
        ),
        error_messages={"required": _("Enter the text of the template"),
                        "max_length": _("The text must be 10,000 characters or fewer")},
    )
