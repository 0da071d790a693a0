"""Figures in plain words, for pages and reports in any module."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

HOUR = 3600


def duration_words(seconds: float | None) -> str:
    """A wait in plain words: "less than a minute", "25 minutes", "3 hours and 20 minutes",
    "30 hours", "4 days and 2 hours"."""
    if seconds is None:
        return ""
    if seconds < 60:
        return _("less than a minute")
    minutes = round(seconds / 60)
    if minutes < 60:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    if seconds < 10 * HOUR:
        hours, rest = divmod(minutes, 60)
        hours_text = ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
        if not rest:
            return hours_text
        return _("%(hours)s and %(minutes)s") % {
            "hours": hours_text, "minutes": ngettext("%(n)s minute", "%(n)s minutes", rest) % {"n": rest},
        }
    hours = round(seconds / HOUR)
    if hours < 48:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    days, rest = divmod(hours, 24)
    days_text = ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if not rest:
        return days_text
    return _("%(days)s and %(hours)s") % {
        "days": days_text, "hours": ngettext("%(n)s hour", "%(n)s hours", rest) % {"n": rest},
    }


def percent_text(value: float | None) -> str:
    """82.5 → "82.5%", 80.0 → "80%"; empty for None."""
    if value is None:
        return ""
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"
