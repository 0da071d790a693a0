"""Forms for referrals: referring someone to a circle, referring a member to a partner, and
saying what happened.  The rules (who may refer, consent, what is needed) are the services'
(``circles.services.referrals``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from localsocial.circles.models import Member, ReferralStatus
from localsocial.circles.models.membership import email_is_placeholder
from localsocial.circles.services.referrals import ReferredPerson
from localsocial.directory.models import Organisation

EMAIL_ERRORS = {"invalid": _("Enter an email address in the correct format, like name@example.com")}


class _PartnerChoiceMixin:
    fields: dict[str, Any]

    def _partners_set(self, partners: list[Organisation]) -> None:
        self.partners = {str(p.pk): p for p in partners}
        self.fields["partner"].choices = [(key, p.name) for key, p in self.partners.items()]

    def chosen_partner(self) -> Organisation | None:
        return self.partners.get(str(self.cleaned_data.get("partner", "")))  # type: ignore[attr-defined]


class ReferInForm(_PartnerChoiceMixin, forms.Form):
    """Someone from a partner organisation (or a coordinator) refers a person to the circle."""

    partner = forms.ChoiceField(
        label=_("Which organisation are you referring for?"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose the organisation you are referring for"),
                        "invalid_choice": _("Choose the organisation you are referring for")},
    )
    consent = forms.BooleanField(
        label=_("The person agreed to be referred and to us contacting them"), required=False,
        help_text=_("Check with them before you send this. We record the date and time."),
    )
    person_name = forms.CharField(
        label=_("Their full name"), max_length=200, widget=forms.TextInput(attrs={"spellcheck": False}),
        error_messages={"required": _("Enter the person's name")},
    )
    person_phone = forms.CharField(
        label=_("Their phone number"), max_length=40, required=False,
        help_text=_("We need a phone number or an email address to get in touch"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "spellcheck": False}),
    )
    person_email = forms.EmailField(
        label=_("Their email address (optional if you gave a phone number)"), required=False,
        widget=forms.EmailInput(attrs={"spellcheck": False}), error_messages=EMAIL_ERRORS,
    )
    person_postcode = forms.CharField(
        label=_("Their postcode (optional)"), max_length=10, required=False,
        widget=forms.TextInput(attrs={"spellcheck": False}),
    )
    reason = forms.CharField(
        label=_("Why are you referring them?"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example: lives alone since her husband died and would like company and help in the garden"),
        error_messages={"required": _("Say why you are referring them")},
    )
    needs = forms.CharField(
        label=_("Anything we should know before we get in touch? (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: hard of hearing, so please call rather than write; best after 11am"),
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, partners: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._partners_set(partners)
        if len(partners) == 1:
            self.fields["partner"].initial = str(partners[0].pk)

    def person(self) -> ReferredPerson:
        data = self.cleaned_data
        return ReferredPerson(
            name=data["person_name"], phone=data.get("person_phone") or "", email=data.get("person_email") or "",
            postcode=data.get("person_postcode") or "", reason=data["reason"], needs=data.get("needs") or "",
        )


class ReferOutForm(_PartnerChoiceMixin, forms.Form):
    """A coordinator refers a member to a partner organisation."""

    partner = forms.ChoiceField(
        label=_("Which organisation are you referring them to?"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose the organisation you are referring them to"),
                        "invalid_choice": _("Choose the organisation you are referring them to")},
    )
    consent = forms.BooleanField(label=_("They agreed to be referred"), required=False)
    reason = forms.CharField(
        label=_("Why are you referring them?"), widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Say why you are referring them")},
    )
    needs = forms.CharField(
        label=_("Anything the organisation should know? (optional)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    person_phone = forms.CharField(
        label=_("Phone number to share (optional)"), max_length=40, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "spellcheck": False}),
        help_text=_("Share only what the organisation needs to get in touch. Clear what it does not need."),
    )
    person_email = forms.EmailField(
        label=_("Email address to share (optional)"), required=False,
        widget=forms.EmailInput(attrs={"spellcheck": False}), error_messages=EMAIL_ERRORS,
    )
    person_postcode = forms.CharField(
        label=_("Postcode to share (optional)"), max_length=10, required=False,
        widget=forms.TextInput(attrs={"spellcheck": False}),
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, partners: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._partners_set(partners)
        if len(partners) == 1:
            self.fields["partner"].initial = str(partners[0].pk)

    @staticmethod
    def initial_from(member: Member) -> dict[str, Any]:
        email = member.user.email if member.user_id and not email_is_placeholder(member.user.email) else ""
        return {"person_phone": member.phone, "person_email": email, "person_postcode": member.postcode}


class ReferralUpdateForm(forms.Form):
    """What happened to a referral."""

    status = forms.ChoiceField(
        label=_("What happened?"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happened"), "invalid_choice": _("Choose what happened")},
    )
    outcome = forms.CharField(
        label=_("Note (needed if they declined or it is closed)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: called twice, no answer; or: started on the falls prevention course"),
    )

    def __init__(self, *args: Any, statuses: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            ReferralStatus.CONTACTED.value: gettext("We are in touch with them"),
            ReferralStatus.ACCEPTED.value: gettext("Accepted: we are helping them"),
            ReferralStatus.DECLINED.value: gettext("Declined: they said no, or we cannot help"),
            ReferralStatus.CLOSED.value: gettext("Closed for another reason"),
        }
        self.fields["status"].choices = [(s, labels[s]) for s in statuses]  # type: ignore[attr-defined]
