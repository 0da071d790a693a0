"""Forms for events: a coordinator's event form, a member's answer, cancelling, the attendance
register and finding a member to answer for.

The forms read what was typed; the rules (who may, when, how many places) are the services'
(``circles.services.events``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from localsocial.circles.forms.help import DateInput
from localsocial.circles.forms.membership import PoundsField
from localsocial.circles.models import Event, EventKind, EventRsvp, RsvpStatus
from localsocial.circles.services.events import EventDetails

TIME_CHOICES = [(f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}") for h in range(7, 23) for m in (0, 15, 30, 45)]
PLACES_CHOICES = [(1, _("Just me")), (2, _("2 places")), (3, _("3 places")), (4, _("4 places"))]


def _at(day: dt.date, time: str) -> dt.datetime:
    hour, minute = (int(part) for part in time.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class EventForm(forms.Form):
    # The add-event form's key, so that a form sent twice adds one event.
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)
    title = forms.CharField(
        label=_("Title"), max_length=150, help_text=_("For example, “Coffee morning” or “Using your phone for video calls”."),
        error_messages={"required": _("Enter the event's title"),
                        "max_length": _("Enter a title of 150 characters or fewer")},
    )
    kind = forms.ChoiceField(
        label=_("What kind of event is it?"), choices=EventKind.choices, widget=forms.RadioSelect,
        initial=EventKind.SOCIAL, error_messages={"required": _("Choose the kind of event")},
    )
    description = forms.CharField(
        label=_("What happens (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
    )
    date = forms.DateField(
        label=_("Which day?"), widget=DateInput, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text=_("For example, 27/3/2027"),
        error_messages={"required": _("Enter the day of the event"),
                        "invalid": _("Enter the day as a real date, like 27/3/2027")},
    )
    starts = forms.ChoiceField(
        label=_("Starts at"), choices=TIME_CHOICES, initial="10:00",
        error_messages={"required": _("Choose when it starts"), "invalid_choice": _("Choose a time from the list")},
    )
    ends = forms.ChoiceField(
        label=_("Ends at"), choices=TIME_CHOICES, initial="12:00",
        error_messages={"required": _("Choose when it ends"), "invalid_choice": _("Choose a time from the list")},
    )
    place_name = forms.CharField(
        label=_("Place"), max_length=200, help_text=_("For example, “St Mary's Church Hall”."),
        error_messages={"required": _("Enter where the event is"),
                        "max_length": _("Enter a place of 200 characters or fewer")},
    )
    place_address = forms.CharField(
        label=_("Address (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=500,
    )
    postcode = forms.CharField(
        label=_("Postcode (optional)"), required=False, max_length=10,
        error_messages={"max_length": _("Enter a real postcode, like SE1 7PB")},
    )
    accessibility = forms.CharField(
        label=_("Access (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text=_("Step-free access, hearing loop, toilets, parking, how to get there."),
    )
    places = forms.IntegerField(
        label=_("Number of places (optional)"), required=False, min_value=1, max_value=10000,
        help_text=_("Leave empty if anyone can come."),
        error_messages={"invalid": _("Enter the number of places as a whole number, like 20"),
                        "min_value": _("Enter at least 1 place, or leave it empty if anyone can come"),
                        "max_value": _("Enter 10,000 places or fewer")},
    )
    cost = PoundsField(label=_("Cost, in pounds (optional)"), required=False, help_text=_("Leave empty if it is free."))
    is_published = forms.BooleanField(
        label=_("Show it to members now"), required=False, initial=True,
        help_text=_("Untick to keep it as a draft only coordinators can see."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts") and data.get("ends") and data["ends"] <= data["starts"]:
            self.add_error("ends", _("The event must end after it starts"))
        return data

    def details(self) -> EventDetails:
        data = self.cleaned_data
        return EventDetails(
            title=data["title"], kind=data["kind"], description=data.get("description", ""),
            starts_at=_at(data["date"], data["starts"]), ends_at=_at(data["date"], data["ends"]),
            place_name=data["place_name"], place_address=data.get("place_address", ""),
            postcode=data.get("postcode", ""), accessibility=data.get("accessibility", ""),
            places=data.get("places"), cost_pence=data.get("cost") or 0, is_published=bool(data.get("is_published")),
        )

    @staticmethod
    def initial_for(event: Event) -> dict[str, Any]:
        starts, ends = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
        return {
            "title": event.title, "kind": event.kind, "description": event.description, "date": starts.date(),
            "starts": starts.strftime("%H:%M"), "ends": ends.strftime("%H:%M"), "place_name": event.place_name,
            "place_address": event.place_address, "postcode": event.postcode, "accessibility": event.accessibility,
            "places": event.places, "cost": f"{event.cost_pence / 100:.2f}" if event.cost_pence else "",
            "is_published": event.is_published,
        }


# The service's names for errors, mapped to this form's fields.
EVENT_FIELD_NAMES = {"starts_at": "date", "ends_at": "ends", "cost_pence": "cost"}


class AnswerForm(forms.Form):
    """A member's answer: coming (with how many places) or not."""

    status = forms.ChoiceField(
        label=_("Are you coming?"), widget=forms.RadioSelect,
        choices=[(RsvpStatus.GOING.value, _("Yes, I'll come")), (RsvpStatus.NOT_GOING.value, _("No, I can't come now"))],
        error_messages={"required": _("Choose whether you are coming")},
    )
    places = forms.TypedChoiceField(
        label=_("How many places?"), choices=PLACES_CHOICES, coerce=int, initial=1, required=False,
        help_text=_("Count yourself and anyone coming with you, such as a carer or a friend."),
        error_messages={"invalid_choice": _("Choose from 1 to 4 places")},
    )
    note = forms.CharField(
        label=_("Anything we should know? (optional)"), required=False, max_length=300,
        help_text=_("For example, “I use a wheelchair” or “I need a lift”."),
        error_messages={"max_length": _("Keep the note to 300 characters or fewer")},
    )

    @staticmethod
    def initial_for(rsvp: EventRsvp | None) -> dict[str, Any]:
        if rsvp is None:
            return {"places": 1}
        status = RsvpStatus.NOT_GOING.value if rsvp.status == RsvpStatus.NOT_GOING else RsvpStatus.GOING.value
        return {"status": status, "places": rsvp.places, "note": rsvp.note}

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"status": data["status"], "places": data.get("places") or 1, "note": data.get("note", "")}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it cancelled?"), max_length=300,
        help_text=_("Members who were coming or waiting are told this."),
        error_messages={"required": _("Say why the event is cancelled"),
                        "max_length": _("Say why in 300 characters or fewer")},
    )


ATTENDANCE_CHOICES = [("yes", _("Came")), ("no", _("Did not come")), ("", _("Not known"))]
ATTENDANCE_VALUES: dict[str, bool | None] = {"yes": True, "no": False, "": None}


class AttendanceForm(forms.Form):
    """One choice per answer "coming": came, did not come, not known."""

    def __init__(self, *args: Any, rsvps: list[EventRsvp], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rsvps = rsvps
        for rsvp in rsvps:
            current = {True: "yes", False: "no", None: ""}[rsvp.attended]
            self.fields[f"attended-{rsvp.pk}"] = forms.ChoiceField(
                label=rsvp.member.display_name, choices=ATTENDANCE_CHOICES, required=False, initial=current,
                widget=forms.RadioSelect,
            )

    def marks(self) -> dict[int, bool | None]:
        return {rsvp.pk: ATTENDANCE_VALUES[self.cleaned_data.get(f"attended-{rsvp.pk}") or ""] for rsvp in self.rsvps}
