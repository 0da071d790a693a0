"""Forms for asking for help, offering help, answering, feedback and incidents.

The forms read what was typed; the rules (who may, what is allowed when) are the services'
(``circles.services.help``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from localsocial.circles.models import DbsStatus, HelpCategory, HelpPlace, Weekday


def new_key() -> str:
    """A fresh idempotency key for a form's hidden field: the same form sent twice makes one record."""
    return uuid.uuid4().hex


class DateInput(forms.DateInput):
    input_type = "date"


TIME_CHOICES = [(f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}") for h in range(7, 22) for m in (0, 30)]

DURATION_CHOICES = [
    (2, _("Half an hour")),
    (4, _("1 hour")),
    (6, _("1 and a half hours")),
    (8, _("2 hours")),
    (12, _("3 hours")),
    (16, _("4 hours")),
    (24, _("6 hours")),
]

RATING_CHOICES = [
    (5, _("Very well")),
    (4, _("Well")),
    (3, _("All right")),
    (2, _("Not well")),
    (1, _("Badly")),
]


class AskForHelpForm(forms.Form):
    """A request for help.  ``with_category=False`` for asking from an offer (its kind of help
    is the offer's)."""

    category = forms.ChoiceField(
        label=_("What kind of help do you need?"), choices=HelpCategory.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of help you need")},
    )
    description = forms.CharField(
        label=_("What do you need help with?"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
        help_text=_("For example, “Put up two shelves in the kitchen” or “Show me how to video call my grandson”."),
        error_messages={"required": _("Say what you need help with"),
                        "max_length": _("Say what you need help with in 2000 characters or fewer")},
    )
    date = forms.DateField(
        label=_("Which day?"), widget=DateInput, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text=_("For example, 27/3/2027"),
        error_messages={"required": _("Enter the day you would like help"),
                        "invalid": _("Enter the day as a real date, like 27/3/2027")},
    )
    time = forms.ChoiceField(
        label=_("What time?"), choices=TIME_CHOICES, initial="10:00",
        error_messages={"required": _("Choose a time"), "invalid_choice": _("Choose a time from the list")},
    )
    when_note = forms.CharField(
        label=_("Anything else about when (optional)"), required=False, max_length=200,
        help_text=_("For example, “Any weekday morning is fine”."),
    )
    estimated_quarters = forms.TypedChoiceField(
        label=_("How long do you think it will take?"), choices=DURATION_CHOICES, coerce=int, initial=4,
        widget=forms.RadioSelect, error_messages={"required": _("Choose how long it will take")},
    )
    place = forms.ChoiceField(
        label=_("Where is the help needed?"), choices=HelpPlace.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose where the help is needed")},
    )
    place_details = forms.CharField(
        label=_("Address or meeting place (optional)"), required=False, max_length=300,
        help_text=_("Leave this empty for help at the home address we have for you."),
    )
    key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, with_category: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_category:
            del self.fields["category"]
        if not self.is_bound:
            self.initial.setdefault("key", new_key())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time") and self.starts_at() <= timezone.now():
            self.add_error("date", _("The day and time must be in the future"))
        return data

    def starts_at(self) -> dt.datetime:
        data = self.cleaned_data
        hour, minute = (int(part) for part in data["time"].split(":"))
        return timezone.make_aware(dt.datetime.combine(data["date"], dt.time(hour, minute)))

    def arguments(self) -> dict[str, Any]:
        """What ``help_request_create`` needs, from the cleaned form."""
        data = self.cleaned_data
        return {
            "category": data.get("category", ""), "description": data["description"], "starts_at": self.starts_at(),
            "when_note": data.get("when_note", ""), "estimated_quarters": data["estimated_quarters"],
            "place": data["place"], "place_details": data.get("place_details", ""),
            "idempotency_key": data.get("key") or new_key(),
        }


# The service's names for errors, mapped to this form's fields.
ASK_FIELD_NAMES = {"starts_at": "date"}


class OfferForm(forms.Form):
    category = forms.ChoiceField(
        label=_("What kind of help?"), choices=HelpCategory.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose the kind of help")},
    )
    title = forms.CharField(
        label=_("What do you offer?"), max_length=120,
        help_text=_("In a few words, for example “Help setting up a new phone”."),
        error_messages={"required": _("Say what you offer"),
                        "max_length": _("Say what you offer in 120 characters or fewer")},
    )
    description = forms.CharField(
        label=_("More about it (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
    )
    place = forms.ChoiceField(
        label=_("Where do you give this help?"), choices=HelpPlace.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose where you give this help")},
    )


class DeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Why can you not help? (optional)"), required=False, max_length=300,
        help_text=_("This helps the coordinator find someone else."),
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How did it go?"), choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("Choose how it went")},
    )
    comment = forms.CharField(
        label=_("Anything else you want to tell us? (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
    )


class IncidentForm(forms.Form):
    description = forms.CharField(
        label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 6}), max_length=4000,
        help_text=_("Say what happened, when and who was there. A coordinator will read this straight away."),
        error_messages={"required": _("Say what happened"),
                        "max_length": _("Say what happened in 4000 characters or fewer")},
    )
    anyone_hurt = forms.BooleanField(label=_("Someone was hurt or is at risk"), required=False)
    key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("key", new_key())


# The parts of a day a helper can say they are usually free, and the times they stand for.
DAY_PARTS = {
    "morning": (dt.time(9), dt.time(12), _("morning (9am to 12 noon)")),
    "afternoon": (dt.time(12), dt.time(17), _("afternoon (12 noon to 5pm)")),
    "evening": (dt.time(17), dt.time(20), _("evening (5pm to 8pm)")),
}


def _free_time_choices() -> list[tuple[str, Any]]:
    from django.utils.text import format_lazy

    return [
        (f"{day.value}-{part}", format_lazy("{} {}", day.label, label))
        for day in Weekday for part, (_start, _end, label) in DAY_PARTS.items()
    ]


class HelperProfileForm(forms.Form):
    """What a helper does and when they are usually free (mornings, afternoons, evenings)."""

    skills = forms.MultipleChoiceField(
        label=_("What kinds of help do you give?"), choices=HelpCategory.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    free_times = forms.MultipleChoiceField(
        label=_("When are you usually free?"), choices=_free_time_choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    @staticmethod
    def initial_for(skills: list[str], slots: list[tuple[int, dt.time, dt.time]]) -> dict[str, Any]:
        times = [
            f"{weekday}-{part}" for weekday, starts, ends in slots
            for part, (p_start, p_end, _label) in DAY_PARTS.items() if (starts, ends) == (p_start, p_end)
        ]
        return {"skills": skills, "free_times": times}

    def slots(self) -> list[tuple[int, dt.time, dt.time]]:
        result = []
        for value in self.cleaned_data.get("free_times", []):
            weekday, part = value.split("-")
            starts, ends, _label = DAY_PARTS[part]
            result.append((int(weekday), starts, ends))
        return result


class HelperVettingForm(forms.Form):
    """A helper's checks, recorded by a coordinator; the rules are ``helper_vetting_update``'s."""

    dbs_status = forms.ChoiceField(
        label=_("DBS check"), choices=DbsStatus.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose the state of the DBS check"),
                        "invalid_choice": _("Choose the state of the DBS check")},
    )
    dbs_checked_on = forms.DateField(
        label=_("Day the DBS check was done (optional unless clear)"), required=False, widget=DateInput,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"], help_text=_("For example, 27/3/2026"),
        error_messages={"invalid": _("Enter the day the DBS check was done as a real date, like 27/3/2026")},
    )
    dbs_expires_on = forms.DateField(
        label=_("Day the DBS check expires (optional unless clear)"), required=False, widget=DateInput,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"], help_text=_("For example, 27/3/2029"),
        error_messages={"invalid": _("Enter the day the DBS check expires as a real date, like 27/3/2029")},
    )
    references_checked = forms.BooleanField(label=_("References have been checked"), required=False)
    training_completed_on = forms.DateField(
        label=_("Day induction training was completed (optional)"), required=False, widget=DateInput,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"], help_text=_("Leave this empty if training is not done yet."),
        error_messages={"invalid": _("Enter the day training was completed as a real date, like 27/3/2026")},
    )
    is_active = forms.BooleanField(label=_("Active helper (can be offered requests)"), required=False)

    @staticmethod
    def initial_for(helper: Any) -> dict[str, Any]:
        return {name: getattr(helper, name) for name in (
            "dbs_status", "dbs_checked_on", "dbs_expires_on", "references_checked", "training_completed_on",
            "is_active",
        )}
