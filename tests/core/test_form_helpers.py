"""core.forms: a service's errors land on the right field, and the title says there is one."""

from django import forms
from django.core.exceptions import ValidationError

from localsocial.core.forms import form_errors_apply, page_title


class _Form(forms.Form):
    title = forms.CharField(required=False)
    expires_on = forms.DateField(required=False)


def _bound() -> _Form:
    form = _Form(data={})
    assert form.is_valid()
    return form


def test_errors_go_on_the_field_they_name_and_the_rest_to_the_top():
    form = _bound()
    form_errors_apply(form, ValidationError({"title": ["Enter a title"], "services": ["Choose a service"]}))
    assert form.errors["title"] == ["Enter a title"]
    assert form.non_field_errors() == ["Choose a service"]


def test_errors_with_names_the_form_spells_differently():
    form = _bound()
    form_errors_apply(form, ValidationError({"expires_at": ["Choose a later date"]}), {"expires_at": "expires_on"})
    assert form.errors["expires_on"] == ["Choose a later date"]
    other = _bound()
    form_errors_apply(other, ValidationError({"expires_at": ["Too soon"]}), lambda name: "expires_on")
    assert other.errors["expires_on"] == ["Too soon"]


def test_an_error_without_fields_goes_to_the_top_and_the_title_says_error():
    form = _bound()
    assert page_title("Add a token", form) == "Add a token"
    form_errors_apply(form, ValidationError("Something went wrong"))
    assert form.non_field_errors() == ["Something went wrong"]
    assert page_title("Add a token", None, form) == "Error: Add a token"
