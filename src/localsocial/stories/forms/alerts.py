"""Forms for staff alerts and the organisation dashboard's date range."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from localsocial.directory.models import Organisation, Service
from localsocial.stories.models import AlertFrequency, Criticality, Tag, TagPolarity
from localsocial.stories.services.alerts import NAME_MAX, AlertChoices

CRITICALITY_THRESHOLDS = [
    (Criticality.NOT_CRITICAL.value, _("Every story, however critical")),
    (Criticality.MINIMALLY.value, _("Minimally critical or more")),
    (Criticality.MILDLY.value, _("Mildly critical or more")),
    (Criticality.MODERATELY.value, _("Moderately critical or more")),
    (Criticality.STRONGLY.value, _("Strongly critical or more")),
    (Criticality.SEVERELY.value, _("Severely critical only")),
]


def _service_label(service: Service) -> str:
    return f"{service.name} ({service.organisation.name})"


class AlertForm(forms.Form):
    """An alert's choices.  The organisations and services offered are the person's own;
    the services listed are a bounded selection (the chosen ones, then a search's matches)
    while any service of theirs is accepted."""

    name = forms.CharField(
        label=_("Name of this alert"), max_length=NAME_MAX,
        help_text=_("For example, “Critical stories about the children's ward”."),
        error_messages={"required": _("Enter a name for this alert")},
    )
    organisation = forms.ModelChoiceField(
        label=_("Stories about an organisation you work for"), queryset=Organisation.objects.none(), required=False,
        widget=forms.RadioSelect, empty_label=None,
        help_text=_("Includes every part of it and every service it runs."),
        error_messages={"invalid_choice": _("Choose an organisation you work for")},
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Stories about these services"), queryset=Service.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose services run by the organisations you work for")},
    )
    service_query = forms.CharField(label=_("Find services by name"), required=False, max_length=100)
    tags_good = forms.ModelMultipleChoiceField(
        label=_("What was good"), queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
    )
    tags_improve = forms.ModelMultipleChoiceField(
        label=_("What could be improved"), queryset=Tag.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    min_criticality = forms.TypedChoiceField(
        label=_("How critical a story must be"), choices=CRITICALITY_THRESHOLDS, coerce=int,
        widget=forms.RadioSelect, initial=0, error_messages={"required": _("Choose how critical a story must be")},
    )
    frequency = forms.ChoiceField(
        label=_("How often to email you"), choices=AlertFrequency.choices, widget=forms.RadioSelect,
        initial=AlertFrequency.IMMEDIATE, error_messages={"required": _("Choose how often to get alerts")},
    )

    def __init__(
        self,
        *args: Any,
        organisations: list[Organisation],
        services_allowed: Any,
        services_listed: list[Service],
        tags: dict[str, list[Tag]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        org_field = self.fields["organisation"]
        org_field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])  # type: ignore[attr-defined]
        org_field.choices = [("", _("None: only the services I choose")), *((o.pk, o.name) for o in organisations)]  # type: ignore[attr-defined]
        services_field = self.fields["services"]
        services_field.queryset = services_allowed  # type: ignore[attr-defined]
        services_field.choices = [(s.pk, _service_label(s)) for s in services_listed]  # type: ignore[attr-defined]
        for name, polarity in (("tags_good", TagPolarity.GOOD), ("tags_improve", TagPolarity.IMPROVE)):
            listed = tags.get(polarity, [])
            self.fields[name].queryset = Tag.objects.filter(pk__in=[t.pk for t in listed])  # type: ignore[attr-defined]
            self.fields[name].choices = [(t.pk, t.name) for t in listed]  # type: ignore[attr-defined]
        self.has_tags = any(tags.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("organisation") and not data.get("services") and not self.has_error("organisation") \
                and not self.has_error("services"):
            self.add_error("organisation", _("Choose an organisation or at least one service"))
        return data

    def choices(self) -> AlertChoices:
        data = self.cleaned_data
        return AlertChoices(
            name=data["name"],
            organisation=data.get("organisation"),
            services=list(data.get("services") or []),
            tags=[*(data.get("tags_good") or []), *(data.get("tags_improve") or [])],
            min_criticality=data["min_criticality"],
            frequency=data["frequency"],
        )


class DateInput(forms.DateInput):
    input_type = "date"


class DateRangeForm(forms.Form):
    """The dashboard's period: stories published from one day to another, both included.
    The fields are called ``from`` and ``to`` in the address (``?from=2026-01-01&to=…``)."""

    # A longer period would make the month table needlessly long.
    MAX_YEARS = 10

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["from"] = forms.DateField(
            label=_("From"), required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"], widget=DateInput,
            error_messages={"invalid": _("Enter the start date as a real date, like 2026-01-31")},
        )
        self.fields["to"] = forms.DateField(
            label=_("To"), required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"], widget=DateInput,
            error_messages={"invalid": _("Enter the end date as a real date, like 2026-12-31")},
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        start, end = self.period()
        if start > end and not data.get("to"):
            self.add_error("from", _("The start date must be today or earlier"))
        elif start > end:
            self.add_error("to", _("The end date must be the same as or after the start date"))
        elif (end - start).days > 366 * self.MAX_YEARS:
            self.add_error("from", _("Choose a period of %(years)s years or less") % {"years": self.MAX_YEARS})
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen period, or the default: this month and the eleven before it, to today."""
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        end = data.get("to") or self.today
        start = data.get("from") or default_start(end)
        return start, end


def default_start(end: dt.date) -> dt.date:
    """The first day of the month eleven months before ``end``'s: twelve calendar months."""
    months = end.year * 12 + end.month - 1 - 11
    return dt.date(months // 12, months % 12 + 1, 1)
