"""Forms for the directory's pages: search, browse, staff management and CSV import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from localsocial.directory.models import OrganisationType, StaffRole

KIND_CHOICES = [
    ("all", _("Organisations and services")),
    ("organisations", _("Organisations only")),
    ("services", _("Services only")),
]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the directory"),
        help_text=_("A name, an NHS ODS code, an ONS GSS code or the start of a postcode"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("Search words must be 200 characters or fewer")},
    )
    kind = forms.ChoiceField(
        label=_("Show"), choices=KIND_CHOICES, required=False, widget=forms.RadioSelect,
    )

    def clean_q(self) -> str:
        query = " ".join(self.cleaned_data.get("q", "").split())
        if "q" in self.data and len(query) < 2:
            raise forms.ValidationError(_("Enter at least 2 characters to search for"))
        return query

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or "all"


class BrowseForm(forms.Form):
    type = forms.ChoiceField(choices=OrganisationType.choices, required=False)


class StaffChangeForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        choices=StaffRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Select a role"), "invalid_choice": _("Select a role")},
    )
    job_title = forms.CharField(
        label=_("Job title (optional)"), max_length=120, required=False,
        error_messages={"max_length": _("Job title must be 120 characters or fewer")},
    )


class StaffAddForm(StaffChangeForm):
    """Adding someone: their account's email address, then the same role and job title."""

    email = forms.EmailField(
        label=_("Email address"),
        help_text=_("They must already have an account on Local Social"),
        max_length=254,
        error_messages={
            "required": _("Enter the email address of the person to add"),
            "invalid": _("Enter an email address in the correct format, like name@example.org"),
        },
    )

    field_order = ["email", "role", "job_title"]


CSV_CONTENT_TYPES = {
    "text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
    "text/comma-separated-values", "application/octet-stream", "",
}


class DirectoryImportForm(forms.Form):
    file = forms.FileField(
        label=_("Upload a CSV file"),
        error_messages={
            "required": _("Select a CSV file"),
            "empty": _("The selected file is empty"),
            "invalid": _("Select a CSV file"),
        },
    )
    skip_errors = forms.BooleanField(
        label=_("Import the good rows even if some rows have problems"), required=False,
    )
    dry_run = forms.BooleanField(
        label=_("Only check the file: do not import anything"), required=False,
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        if (upload.size or 0) > limit:
            raise forms.ValidationError(
                _("The selected file must be smaller than %(size)s") % {"size": filesizeformat(limit)}
            )
        name = (upload.name or "").lower()
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not name.endswith(".csv") or content_type not in CSV_CONTENT_TYPES:
            raise forms.ValidationError(_("The selected file must be a CSV"))
        head = upload.read(2048)
        upload.seek(0)
        if b"\x00" in head:
            raise forms.ValidationError(_("The selected file must be a CSV"))
        return upload

    def data_bytes(self) -> bytes:
        upload: Any = self.cleaned_data["file"]
        return bytes(upload.read())
