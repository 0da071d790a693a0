"""The site-wide search box (/search/)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

SEARCH_MAX_LENGTH = 200


class SiteSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search Local Social"),
        help_text=_("Words from a story, or the name of an organisation or service"),
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        error_messages={"max_length": _("Search words must be 200 characters or fewer")},
    )

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data.get("q", "").split())
