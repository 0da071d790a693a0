"""Forms for signing up, signing in, passwords, the profile, two-step codes and site roles.

Error messages follow the GOV.UK pattern: say what to do ("Enter your email address"), not
what went wrong in technical words.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from localsocial.accounts.models import SiteRole, User, email_normalise

EMAIL_ERRORS = {
    "required": _("Enter your email address"),
    "invalid": _("Enter an email address in the correct format, like name@example.com"),
    "max_length": _("Email address must be 254 characters or fewer"),
}


def email_field(label: Any = None, **kwargs: Any) -> forms.EmailField:
    return forms.EmailField(
        label=label or _("Email address"),
        max_length=254,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def password_field(label: Any, *, new: bool, hint: Any = None, required_message: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=hint or "",
        error_messages={"required": required_message or _("Enter your password")},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password" if new else "current-password"}),
    )


NEW_PASSWORD_HINT = _(
    "Use at least 10 characters. A few unrelated words together are easy to remember and hard to guess."
)


class CleanEmailMixin:
    cleaned_data: dict[str, Any]

    def clean_email(self) -> str:
        return email_normalise(self.cleaned_data["email"])


def display_name_field() -> forms.CharField:
    return forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_(
            "This is shown beside what you write. It can be your first name or a made-up name. "
            "Do not use your email address."
        ),
        error_messages={
            "required": _("Enter a display name"),
            "max_length": _("Display name must be 80 characters or fewer"),
        },
        widget=forms.TextInput(attrs={"autocomplete": "nickname", "spellcheck": "false"}),
    )


def clean_display_name_value(value: str) -> str:
    value = " ".join(value.split())
    if "@" in value:
        raise forms.ValidationError(
            _("Display name must not be an email address, because other people can see it")
        )
    return value


def validate_new_password(password: str, user: User) -> None:
    password_validation.validate_password(password, user=user)


class SignUpForm(CleanEmailMixin, forms.Form):
    email = email_field(help_text=_("We will send you a link to confirm it. We will not share it."))
    display_name = display_name_field()
    password = password_field(_("Create a password"), new=True, hint=NEW_PASSWORD_HINT,
                              required_message=_("Enter a password"))

    def clean_display_name(self) -> str:
        return clean_display_name_value(self.cleaned_data["display_name"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email") or "", display_name=cleaned.get("display_name") or "")
            try:
                validate_new_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class SignInForm(CleanEmailMixin, forms.Form):
    email = email_field()
    password = password_field(_("Password"), new=False)


class EmailOnlyForm(CleanEmailMixin, forms.Form):
    email = email_field()


class SetPasswordForm(forms.Form):
    """Choose a new password (after a reset link)."""

    new_password = password_field(_("New password"), new=True, hint=NEW_PASSWORD_HINT,
                                  required_message=_("Enter a new password"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_password(self) -> str:
        password = self.cleaned_data["new_password"]
        validate_new_password(password, self.user)
        return password


class CurrentPasswordMixin:
    """Asks for the current password before a change that matters."""

    user: User
    cleaned_data: dict[str, Any]

    def clean_current_password(self) -> str:
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Your current password is not right. Check it and try again."))
        return password


class PasswordChangeForm(CurrentPasswordMixin, SetPasswordForm):
    current_password = password_field(_("Current password"), new=False,
                                      required_message=_("Enter your current password"))
    field_order = ["current_password", "new_password"]


class ProfileForm(forms.Form):
    display_name = display_name_field()
    preferred_language = forms.ChoiceField(
        label=_("Language for the website and our emails"),
        choices=settings.LANGUAGES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a language"), "invalid_choice": _("Choose a language")},
    )

    def clean_display_name(self) -> str:
        return clean_display_name_value(self.cleaned_data["display_name"])


class EmailChangeForm(CurrentPasswordMixin, forms.Form):
    new_email = email_field(
        label=_("New email address"),
        help_text=_("We will send a link to this address. Your address changes when you follow it."),
    )
    current_password = password_field(_("Current password"), new=False,
                                      required_message=_("Enter your current password"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["new_email"].error_messages["required"] = _("Enter your new email address")

    def clean_new_email(self) -> str:
        value = email_normalise(self.cleaned_data["new_email"])
        if value == self.user.email:
            raise forms.ValidationError(_("This is already your email address. Enter a different one."))
        return value


class DeleteAccountForm(CurrentPasswordMixin, forms.Form):
    current_password = password_field(_("Enter your password to confirm"), new=False,
                                      required_message=_("Enter your password"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Security code"),
        max_length=40,
        error_messages={"required": _("Enter the security code")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, label: Any = None, hint: Any = None, numeric: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if label:
            field.label = label
        if hint:
            field.help_text = hint
        if numeric:
            field.widget.attrs["inputmode"] = "numeric"


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role to give"),
        choices=SiteRole.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a role"), "invalid_choice": _("Choose a role")},
    )


class RoleRevokeForm(forms.Form):
    role = forms.ChoiceField(choices=SiteRole.choices, widget=forms.HiddenInput)


class PeopleSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a person by email address"),
        required=False,
        max_length=254,
        help_text=_("You can type part of the address."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
