"""Forms of the developer pages: making a token and adding a webhook."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from localsocial.api.registry import scope_choices
from localsocial.api.webhook_registry import webhook_event_choices
from localsocial.directory.models import Organisation, StaffRole


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        help_text=_("So you can tell your tokens apart, for example “Feedback kiosk”"),
        max_length=100,
        error_messages={"required": _("Enter a name for the token"),
                        "max_length": _("The name must be 100 characters or fewer")},
    )
    scopes = forms.MultipleChoiceField(
        label=_("What the token may do"),
        help_text=_(
            "Reading published stories, the directory and the list of circles needs no token. "
            "Circle scopes act as you, in the circles you belong to or coordinate, whatever "
            "organisation you choose below."
        ),
        choices=scope_choices,  # every scope the platform and the modules registered
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose what the token may do"),
                        "invalid_choice": _("Choose what the token may do from the list")},
    )
    organisation = forms.ChoiceField(
        label=_("Organisation (for responses and webhooks)"),
        help_text=_("The token acts for this organisation while you are a responder or administrator there."),
        required=False,
        error_messages={"invalid_choice": _("Choose an organisation from the list")},
    )
    expires_on = forms.DateField(
        label=_("Expiry date (optional)"),
        help_text=_("For example, 31/3/2027. Leave blank for a token that lasts until you revoke it."),
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"],
        error_messages={"invalid": _("Enter the expiry date as day/month/year, for example 31/3/2027")},
    )

    def __init__(self, *args: Any, organisations: list[tuple[Organisation, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisations = {str(org.pk): org for org, _role in organisations}
        field = self.fields["organisation"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("None"))] + [
            (str(org.pk), f"{org.name} ({StaffRole(role).label})") for org, role in organisations
        ]

    def clean_expires_on(self) -> date | None:
        value: date | None = self.cleaned_data.get("expires_on")
        if value is not None and value <= timezone.localdate():
            raise forms.ValidationError(_("The expiry date must be in the future"))
        return value

    def organisation_chosen(self) -> Organisation | None:
        return self.organisations.get(self.cleaned_data.get("organisation") or "")

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        # The token works to the end of the day chosen.
        return timezone.make_aware(datetime.combine(day, time.max)) if day else None


class WebhookCreateForm(forms.Form):
    url = forms.CharField(
        label=_("Address to send events to"),
        help_text=_("It must start with https://"),
        max_length=500,
        error_messages={"required": _("Enter the address to send events to"),
                        "max_length": _("The address must be 500 characters or fewer")},
    )
    events = forms.MultipleChoiceField(
        label=_("Events to send"),
        # Read when the form is made: the modules register their events at start-up.
        choices=webhook_event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event"),
                        "invalid_choice": _("Choose events from the list")},
    )
