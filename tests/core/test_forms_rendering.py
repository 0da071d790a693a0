"""Forms render as GOV.UK components, with an error summary that links to each field."""

from django import forms


class ExampleForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="We only use it to contact you.")
    story = forms.CharField(label="What happened", widget=forms.Textarea)
    role = forms.ChoiceField(label="You are a", choices=[("patient", "Patient"), ("carer", "Carer")],
                             widget=forms.RadioSelect)
    agree = forms.BooleanField(label="I agree")


def render_form(form):
    from django.template import engines

    env = engines["jinja2"].env
    template = env.from_string(
        '{% from "core/macros/forms.html" import form_field, error_summary with context %}'
        "{{ error_summary([form]) }}{% for f in form %}{{ form_field(f) }}{% endfor %}"
    )
    return template.render(form=form)


def test_valid_form_has_no_error_summary():
    html = render_form(ExampleForm())
    assert "govuk-error-summary" not in html
    assert 'class="govuk-input' in html
    assert 'class="govuk-textarea' in html
    assert 'class="govuk-radios__input"' in html
    assert "We only use it to contact you." in html


def test_invalid_form_links_every_error_to_its_field():
    form = ExampleForm(data={"email": "not-an-email", "story": "", "role": "nobody"})
    assert not form.is_valid()
    html = render_form(form)
    assert "There is a problem" in html
    assert 'href="#id_email"' in html
    assert 'href="#id_story"' in html
    assert 'href="#role"' in html
    assert 'href="#id_agree"' in html
    assert 'id="id_agree"' in html
    assert 'id="role"' in html
    assert "Enter a valid email address." in html
    assert 'govuk-input--error' in html
    # The value typed is kept, so nothing is lost.
    assert 'value="not-an-email"' in html
