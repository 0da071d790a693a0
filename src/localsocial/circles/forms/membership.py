"""Forms for joining a circle, a member's details, card payments and gifts.

The forms read what was typed and turn it into the services' arguments; the rules (who may
join, what a payment buys) are the services' (``circles.services``)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from localsocial.circles.models import (
    QUARTERS_PER_TOKEN,
    Circle,
    ContactPreference,
    Member,
    TokenBundle,
)
from localsocial.circles.services.membership import MemberDetails
from localsocial.circles.services.payments import tokens_text as tokens
from localsocial.directory.models import normalise_postcode, postcode_validator


def new_key() -> str:
    """A fresh idempotency key for a form's hidden field: the same form sent twice carries
    the same key, so it records one payment."""
    return uuid.uuid4().hex


def money(pence: int) -> str:
    """£12.50, £10 (whole pounds without pence)."""
    if pence % 100 == 0:
        return f"£{pence // 100:,}"
    return f"£{pence / 100:,.2f}"


class PoundsField(forms.DecimalField):
    """An amount of money in pounds, returned in pence."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 8)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("error_messages", {
            "required": _("Enter an amount in pounds, like 10 or 12.50"),
            "invalid": _("Enter an amount in pounds, like 10 or 12.50"),
            "max_decimal_places": _("Enter an amount in pounds and pence, like 12.50"),
            "max_digits": _("Enter an amount less than £1,000,000"),
            "max_whole_digits": _("Enter an amount less than £1,000,000"),
        })
        super().__init__(**kwargs)
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": False})

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lstrip("£").replace(",", "")
        return super().to_python(value)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        amount = super().clean(value)
        if amount is None:
            return None
        if amount < 0:
            raise forms.ValidationError(gettext("Enter an amount that is not negative"))
        return int(amount * 100)


class TokensField(forms.DecimalField):
    """A number of tokens (hours), in quarter hours: 1.5 → 6."""

    def __init__(self, *, allow_negative: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("error_messages", {
            "required": _("Enter a number of tokens, like 3 or 1.5"),
            "invalid": _("Enter a number of tokens, like 3 or 1.5"),
            "max_decimal_places": _("Enter tokens in quarters of an hour, like 1.25 or 1.5"),
            "max_digits": _("Enter a smaller number of tokens"),
            "max_whole_digits": _("Enter a smaller number of tokens"),
        })
        super().__init__(**kwargs)
        self.widget = forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": False})

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        amount = super().clean(value)
        if amount is None:
            return None
        quarters = amount * QUARTERS_PER_TOKEN
        if quarters != quarters.to_integral_value():
            raise forms.ValidationError(gettext("Enter tokens in quarters of an hour, like 1.25 or 1.5"))
        if quarters < 0 and not self.allow_negative:
            raise forms.ValidationError(gettext("Enter a number of tokens that is not negative"))
        return int(quarters)


class MemberDetailsForm(forms.Form):
    """A member's name and how to reach them."""

    display_name = forms.CharField(
        label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": False}),
        error_messages={"required": _("Enter your full name")},
    )
    phone = forms.CharField(
        label=_("Phone number"), max_length=40, required=False,
        help_text=_("A landline or mobile number we can call you on"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "spellcheck": False}),
    )
    postal_address = forms.CharField(
        label=_("Postal address"), required=False, widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=10, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "spellcheck": False}),
    )
    contact_preference = forms.ChoiceField(
        label=_("How should we contact you?"), choices=ContactPreference.choices, widget=forms.RadioSelect,
        initial=ContactPreference.PHONE,
        error_messages={"required": _("Choose how we should contact you"),
                        "invalid_choice": _("Choose how we should contact you")},
    )
    accessibility_needs = forms.CharField(
        label=_("Anything we should know to help you? (optional)"), required=False,
        help_text=_("For example, you use a wheelchair, have a guide dog, or need large print letters"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emergency_contact_name = forms.CharField(
        label=_("Emergency contact's name (optional)"), max_length=200, required=False,
        help_text=_("Someone we can call if we are worried about you"),
    )
    emergency_contact_phone = forms.CharField(
        label=_("Emergency contact's phone number (optional)"), max_length=40, required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "spellcheck": False}),
    )

    def clean_postcode(self) -> str:
        value = normalise_postcode(self.cleaned_data.get("postcode") or "")
        if value:
            try:
                postcode_validator(value)
            except forms.ValidationError as error:
                raise forms.ValidationError(gettext("Enter a full UK postcode, like SE1 7EH")) from error
        return value

    def details(self) -> MemberDetails:
        data = self.cleaned_data
        return MemberDetails(**{name: data.get(name) or "" for name in MemberDetails.__dataclass_fields__})

    @staticmethod
    def initial_from(member: Member) -> dict[str, Any]:
        return {name: getattr(member, name) for name in MemberDetails.__dataclass_fields__}


class JoinForm(MemberDetailsForm):
    """Joining online."""

    eligibility_confirmed = forms.BooleanField(label=_("I confirm I am old enough to join"), required=False)
    terms_agreed = forms.BooleanField(
        label=_("I agree to the circle's terms"), required=False,
        help_text=_("Members treat helpers and each other with respect, pay the yearly fee, and tell the "
                    "coordinators if they cannot be at home for a visit."),
    )

    def __init__(self, *args: Any, circle: Circle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if circle.minimum_age:
            self.fields["eligibility_confirmed"].label = gettext("I am %(age)d or over") % {"age": circle.minimum_age}
            self.fields["eligibility_confirmed"].help_text = gettext(
                "%(circle)s is for people aged %(age)d or over. We do not ask for proof."
            ) % {"circle": circle.name, "age": circle.minimum_age}
        else:
            del self.fields["eligibility_confirmed"]


class AssistedJoinForm(MemberDetailsForm):
    """A coordinator joins someone up on the phone or in person."""

    consent = forms.BooleanField(
        label=_("The person agreed to me entering this for them"), required=False,
        help_text=_("Read them the circle's terms and check they agree to join and to you entering their details."),
    )
    email = forms.EmailField(
        label=_("Their email address (optional)"), required=False,
        help_text=_("Leave empty if they have none: you will act for them, and we will contact them the way they prefer."),
        widget=forms.EmailInput(attrs={"spellcheck": False}),
        error_messages={"invalid": _("Enter an email address in the correct format, like name@example.com")},
    )
    eligibility_confirmed = forms.BooleanField(label=_("They say they are old enough to join"), required=False)

    field_order = ["consent", "display_name", "email"]

    def __init__(self, *args: Any, circle: Circle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["display_name"].error_messages["required"] = gettext("Enter their full name")
        self.fields["contact_preference"].label = gettext("How should we contact them?")
        self.fields["phone"].help_text = ""
        self.fields["accessibility_needs"].label = gettext("Anything we should know to help them? (optional)")
        self.fields["emergency_contact_name"].help_text = ""
        if circle.minimum_age:
            self.fields["eligibility_confirmed"].label = gettext("They say they are %(age)d or over") % {
                "age": circle.minimum_age}
        else:
            del self.fields["eligibility_confirmed"]


class CardPaymentForm(forms.Form):
    """Pay the fee, or buy a bundle, by card: the key makes a second press start nothing new."""

    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    bundle = forms.ChoiceField(
        label=_("Choose a bundle"), widget=forms.RadioSelect, required=False,
        error_messages={"invalid_choice": _("Choose a bundle of tokens that is on sale")},
    )

    def __init__(self, *args: Any, bundles: list[TokenBundle] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bundles = {str(b.pk): b for b in bundles or []}
        self.fields["bundle"].choices = [(key, bundle_label(b)) for key, b in self.bundles.items()]  # type: ignore[attr-defined]

    def chosen_bundle(self) -> TokenBundle | None:
        return self.bundles.get(str(self.cleaned_data.get("bundle", "")))


def bundle_label(bundle: TokenBundle) -> str:
    return gettext("%(name)s, %(price)s (tokens: %(tokens)s)") % {
        "name": bundle.name, "tokens": tokens(bundle.quarters), "price": money(bundle.price_pence)}


class GiftForm(forms.Form):
    """Anyone buys tokens for a member, who told them their gift code."""

    gift_code = forms.CharField(
        label=_("The member's gift code"), max_length=40,
        help_text=_("Members find it on their membership page, for example 12-ABCD2345"),
        widget=forms.TextInput(attrs={"spellcheck": False, "autocomplete": "off"}),
        error_messages={"required": _("Enter the member's gift code")},
    )
    bundle = forms.ChoiceField(
        label=_("Which tokens would you like to give?"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose a bundle of tokens"),
                        "invalid_choice": _("Choose a bundle of tokens that is on sale")},
    )
    payer_name = forms.CharField(
        label=_("Your name"), max_length=200, help_text=_("We tell the member who the gift is from"),
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": False}),
        error_messages={"required": _("Enter your name")},
    )
    payer_email = forms.EmailField(
        label=_("Your email address"), help_text=_("We send you a receipt"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": False}),
        error_messages={"required": _("Enter your email address"),
                        "invalid": _("Enter an email address in the correct format, like name@example.com")},
    )
    idempotency_key = forms.CharField(max_length=80, widget=forms.HiddenInput)
    website = forms.CharField(label=_("Leave this empty"), required=False)

    def __init__(self, *args: Any, bundles: list[TokenBundle], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bundles = {str(b.pk): b for b in bundles}
        self.fields["bundle"].choices = [(str(b.pk), bundle_label(b)) for b in bundles]  # type: ignore[attr-defined]

    def chosen_bundle(self) -> TokenBundle | None:
        return self.bundles.get(str(self.cleaned_data.get("bundle", "")))

    def honeypot_filled(self) -> bool:
        return bool(str(self.data.get("website", "")).strip())
