"""Forms for the coordinators' pages: payments, gifts, grants, circle settings, bundles,
coordinators; and the site administrators' new circle."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from localsocial.circles.forms.membership import PoundsField, TokensField, bundle_label
from localsocial.circles.models import MemberStatus, PaymentMethod, PaymentPurpose, TokenBundle
from localsocial.circles.services.circles import CircleNew
from localsocial.directory.models import Area, Organisation

OFFLINE_METHODS = [
    (PaymentMethod.CASH.value, PaymentMethod.CASH.label),
    (PaymentMethod.CHEQUE.value, PaymentMethod.CHEQUE.label),
    (PaymentMethod.BANK_TRANSFER.value, PaymentMethod.BANK_TRANSFER.label),
]


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name or postcode"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *MemberStatus.choices],
    )


class _BundleChoiceMixin:
    fields: dict[str, Any]

    def _bundles_set(self, bundles: list[TokenBundle]) -> None:
        self.bundles = {str(b.pk): b for b in bundles}
        self.fields["bundle"].choices = [("", gettext("Choose a bundle")), *[
            (key, bundle_label(b)) for key, b in self.bundles.items()]]

    def chosen_bundle(self) -> TokenBundle | None:
        return self.bundles.get(str(self.cleaned_data.get("bundle", "")))  # type: ignore[attr-defined]


class PaymentRecordForm(_BundleChoiceMixin, forms.Form):
    """Money received for a member: the fee, or a bundle of tokens sold to them."""

    purpose = forms.ChoiceField(
        label=_("What is the payment for?"), widget=forms.RadioSelect,
        choices=[(PaymentPurpose.FEE.value, _("The membership fee")),
                 (PaymentPurpose.TOKENS.value, _("A bundle of tokens"))],
        error_messages={"required": _("Choose what the payment is for"),
                        "invalid_choice": _("Choose what the payment is for")},
    )
    bundle = forms.ChoiceField(label=_("Bundle (for tokens)"), required=False, widget=forms.Select,
                               error_messages={"invalid_choice": _("Choose a bundle of tokens that is on sale")})
    method = forms.ChoiceField(
        label=_("How did they pay?"), widget=forms.RadioSelect, choices=OFFLINE_METHODS,
        error_messages={"required": _("Choose how they paid"), "invalid_choice": _("Choose how they paid")},
    )
    amount = PoundsField(label=_("Amount received, in pounds"), required=False,
                         help_text=_("Leave empty for the usual price: the fee, or the bundle's price"))
    reference = forms.CharField(
        label=_("Reference (optional)"), max_length=200, required=False,
        help_text=_("For example the cheque number or the bank transfer's reference"),
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, bundles: list[TokenBundle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bundles_set(bundles)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == PaymentPurpose.TOKENS and not data.get("bundle"):
            self.add_error("bundle", gettext("Choose a bundle of tokens"))
        return data


class GiftRecordForm(_BundleChoiceMixin, forms.Form):
    """A gift of tokens from a member's family or friends, paid to the coordinators."""

    payer_name = forms.CharField(label=_("Name of the person giving the gift"), max_length=200,
                                 error_messages={"required": _("Enter the name of the person giving the gift")})
    payer_email = forms.EmailField(
        label=_("Their email address (optional)"), required=False, help_text=_("We send them a receipt"),
        error_messages={"invalid": _("Enter an email address in the correct format, like name@example.com")},
    )
    bundle = forms.ChoiceField(label=_("Bundle"), widget=forms.Select,
                               error_messages={"required": _("Choose a bundle of tokens"),
                                               "invalid_choice": _("Choose a bundle of tokens that is on sale")})
    method = forms.ChoiceField(
        label=_("How did they pay?"), widget=forms.RadioSelect, choices=OFFLINE_METHODS,
        error_messages={"required": _("Choose how they paid"), "invalid_choice": _("Choose how they paid")},
    )
    reference = forms.CharField(label=_("Reference (optional)"), max_length=200, required=False)
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)

    def __init__(self, *args: Any, bundles: list[TokenBundle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bundles_set(bundles)


class GrantForm(forms.Form):
    tokens = TokensField(label=_("Number of tokens"), help_text=_("1 token is 1 hour of help, for example 2 or 1.5"))
    memo = forms.CharField(label=_("Reason"), max_length=200, required=False,
                           help_text=_("The member sees this on their statement, for example “Welcome tokens”"))
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)


class CircleSettingsForm(forms.Form):
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                  help_text=_("Shown on the circle's public page"))
    annual_fee = PoundsField(label=_("Yearly membership fee, in pounds"))
    minimum_age = forms.IntegerField(
        label=_("Minimum age (optional)"), required=False, min_value=1, max_value=120,
        help_text=_("People say they are this age or older when they join. Leave empty for any age."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Enter the age as a whole number, like 50"),
                        "min_value": _("Enter an age from 1 to 120"), "max_value": _("Enter an age from 1 to 120")},
    )
    welcome_tokens = TokensField(label=_("Welcome tokens for each new member"))
    credit_tokens = TokensField(
        label=_("Tokens a member may owe"),
        help_text=_("0 means members cannot spend tokens they do not have; 2 lets them go up to 2 hours into credit"),
    )
    renewal_reminder_days = forms.IntegerField(
        label=_("Days before a membership ends to send a renewal reminder"), min_value=1, max_value=180,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": _("Enter a number of days, like 30"), "invalid": _("Enter a number of days, like 30"),
                        "min_value": _("Enter a number of days from 1 to 180"),
                        "max_value": _("Enter a number of days from 1 to 180")},
    )
    is_active = forms.BooleanField(label=_("Open to new members"), required=False)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "description": data["description"], "annual_fee_pence": data["annual_fee"],
            "minimum_age": data.get("minimum_age"), "welcome_quarters": data["welcome_tokens"],
            "minimum_balance_quarters": -data["credit_tokens"], "renewal_reminder_days": data["renewal_reminder_days"],
            "is_active": data["is_active"],
        }


class BundleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("For example “3 tokens”"),
                           error_messages={"required": _("Enter a name for the bundle, like 3 tokens")})
    tokens = TokensField(label=_("Number of tokens"))
    price = PoundsField(label=_("Price, in pounds"))


_EMAIL_ERRORS = {"required": _("Enter their email address"),
                 "invalid": _("Enter an email address in the correct format, like name@example.com")}


class CoordinatorAddForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address of their account"), max_length=254, error_messages=_EMAIL_ERRORS,
        help_text=_("They must have a Local Social account already. We email them to say they are a coordinator."),
    )


class CircleNewForm(forms.Form):
    """A new circle, by a site administrator: the same details a coordinator sees in the
    circle's settings, plus its addresses, area, organisation and first coordinator."""

    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("For example “Southwark Circle”"),
                           error_messages={"required": _("Enter the circle's name")})
    slug = forms.CharField(
        label=_("Short name for web addresses"), max_length=80,
        help_text=_("Small letters, numbers and hyphens, like southwark-circle. It cannot be changed later."),
        error_messages={"required": _("Enter a short name, like southwark-circle")},
    )
    description = forms.CharField(label=_("Description (optional)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 5}), help_text=_("Shown on the circle's public page"))
    area = forms.ChoiceField(label=_("Area (optional)"), required=False,
                             error_messages={"invalid_choice": _("Choose an area from the list")})
    organisation = forms.CharField(
        label=_("Organisation that runs it (optional)"), max_length=300, required=False,
        help_text=_("Its address in the directory, like /directory/organisations/age-uk-southwark/, or the last part of it"),
    )
    annual_fee = PoundsField(label=_("Yearly membership fee, in pounds"), initial="10.00")
    minimum_age = forms.IntegerField(
        label=_("Minimum age (optional)"), required=False, min_value=1, max_value=120, initial=50,
        help_text=_("People say they are this age or older when they join. Leave empty for any age."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Enter the age as a whole number, like 50"),
                        "min_value": _("Enter an age from 1 to 120"), "max_value": _("Enter an age from 1 to 120")},
    )
    coordinator_email = forms.EmailField(
        label=_("Email address of the first coordinator"), max_length=254, error_messages=_EMAIL_ERRORS,
        help_text=_("They must have a Local Social account already. They can add other coordinators."),
    )

    def __init__(self, *args: Any, areas: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.areas = {str(area.pk): area for area in areas}
        self.fields["area"].choices = [("", gettext("No particular area")),  # type: ignore[attr-defined]
                                       *[(key, str(area)) for key, area in self.areas.items()]]

    def clean_organisation(self) -> Organisation | None:
        text = self.cleaned_data["organisation"].strip()
        if not text:
            return None
        slug = [part for part in text.split("?")[0].split("/") if part][-1:] or [""]
        organisation = Organisation.objects.filter(slug=slug[0].lower()).first()
        if organisation is None:
            raise forms.ValidationError(gettext("There is no organisation with this address in the directory"))
        return organisation

    def details(self) -> CircleNew:
        data = self.cleaned_data
        return CircleNew(
            name=data["name"], slug=data["slug"], description=data["description"],
            area=self.areas.get(data.get("area") or ""), organisation=data["organisation"],
            annual_fee_pence=data["annual_fee"], minimum_age=data.get("minimum_age"),
        )
