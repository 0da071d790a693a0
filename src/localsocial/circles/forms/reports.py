"""The reports' forms: the period to report on (two GOV.UK date inputs) and a savings proxy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from localsocial.circles.forms.membership import PoundsField
from localsocial.circles.models import HelpCategory, SavingsBasis
from localsocial.circles.selectors.reports import default_period
from localsocial.circles.services.reports import MAX_SOURCE_LENGTH

PARTS = ("day", "month", "year")


def _part_field() -> forms.CharField:
    return forms.CharField(required=False, max_length=4, strip=True)


class ReportPeriodForm(forms.Form):
    """From one day to another, both included, as three boxes each (day, month, year).  All
    six empty means the last twelve months.  Errors sit on the day box of the date at fault
    (``from_day``, ``to_day``), which the error summary links to."""

    MAX_YEARS = 10
    from_day = _part_field()
    from_month = _part_field()
    from_year = _part_field()
    to_day = _part_field()
    to_month = _part_field()
    to_year = _part_field()

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self._period = default_period(today)

    def _date(self, data: dict[str, Any], prefix: str, which: str) -> dt.date | None:
        parts = [data.get(f"{prefix}_{part}") or "" for part in PARTS]
        if not any(parts):
            return None
        if not all(parts):
            missing = [str(name) for name, value in zip(
                (gettext_lazy("a day"), gettext_lazy("a month"), gettext_lazy("a year")), parts, strict=True,
            ) if not value]
            raise forms.ValidationError(
                _("The %(which)s date must include %(missing)s") % {"which": which, "missing": _(" and ").join(missing)}
            )
        try:
            day, month, year = (int(value) for value in parts)
            if year < 1000:
                raise ValueError
            return dt.date(year, month, day)
        except ValueError as error:
            raise forms.ValidationError(
                _("The %(which)s date must be a real date, like 31 3 2026") % {"which": which}
            ) from error

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start = end = None
        try:
            start = self._date(data, "from", _("start"))
        except forms.ValidationError as error:
            self.add_error("from_day", error)
        try:
            end = self._date(data, "to", _("end"))
        except forms.ValidationError as error:
            self.add_error("to_day", error)
        if self.errors:
            return data
        # Only an end date: the twelve months to it; only a start date: from it to today.
        chosen_end = end
        end = end or self.today
        start = start or default_period(end)[0]
        if start > end and chosen_end is None:
            self.add_error("from_day", _("The start date must be today or earlier"))
        elif start > end:
            self.add_error("to_day", _("The end date must be the same as or after the start date"))
        elif (end - start).days > 366 * self.MAX_YEARS:
            self.add_error("from_day", _("Choose a period of %(years)s years or less") % {"years": self.MAX_YEARS})
        else:
            self._period = (start, end)
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen period once valid; the last twelve months otherwise."""
        return self._period

    def query_string(self) -> str:
        start, end = self._period
        return "&".join(
            f"{prefix}_{part}={getattr(day, part)}" for prefix, day in (("from", start), ("to", end)) for part in PARTS
        )


class SavingsProxyForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("Kind of help"), choices=HelpCategory.choices,
        error_messages={"required": gettext_lazy("Choose the kind of help"),
                        "invalid_choice": gettext_lazy("Choose the kind of help")},
    )
    basis = forms.ChoiceField(
        label=gettext_lazy("Is the value for each hour of help or for each visit?"), choices=SavingsBasis.choices,
        widget=forms.RadioSelect, initial=SavingsBasis.PER_HOUR,
        error_messages={"required": gettext_lazy("Choose whether the value is for each hour or for each visit"),
                        "invalid_choice": gettext_lazy("Choose whether the value is for each hour or for each visit")},
    )
    value = PoundsField(
        label=gettext_lazy("Value, in pounds"),
        help_text=gettext_lazy("What an hour (or a visit) of this help is assumed to save public services"),
    )
    attribution_percent = forms.IntegerField(
        label=gettext_lazy("Share the circle claims, in per cent"), min_value=1, max_value=100, initial=100,
        help_text=gettext_lazy("100 claims all of it. Lower it for help some members would have had anyway, "
                               "for example 50 for half."),
        error_messages={
            "required": gettext_lazy("Enter a share from 1 to 100 per cent"),
            "invalid": gettext_lazy("Enter a share from 1 to 100 per cent, as a whole number"),
            "min_value": gettext_lazy("Enter a share from 1 to 100 per cent"),
            "max_value": gettext_lazy("Enter a share from 1 to 100 per cent"),
        },
    )
    source = forms.CharField(
        label=gettext_lazy("Where the figure comes from"), max_length=MAX_SOURCE_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The publication, table and year, so that anyone reading the report can check it"),
        error_messages={
            "required": gettext_lazy("Say where the figure comes from, so that readers can check it"),
            "max_length": gettext_lazy("Where the figure comes from must be %(limit_value)d characters or fewer"),
        },
    )
