"""Turn Django bound form fields into parameters for the GOV.UK Frontend Jinja macros.

Templates call ``form_field(form["email"])`` (see ``core/macros/forms.html``); this module
decides which GOV.UK component fits the widget and fills in label, hint, value and error.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.boundfield import BoundField


def _error(bf: BoundField) -> dict[str, str] | None:
    if bf.errors:
        return {"text": " ".join(str(e) for e in bf.errors)}
    return None


def _value(bf: BoundField) -> Any:
    value = bf.value()
    return "" if value is None else value


def field(bf: BoundField, **overrides: Any) -> dict[str, Any]:
    widget = bf.field.widget
    label_classes = overrides.pop("label_classes", "")
    is_page_heading = overrides.pop("is_page_heading", False)
    label: dict[str, Any] = {"text": str(bf.label), "classes": label_classes}
    if is_page_heading:
        label["isPageHeading"] = True
    base: dict[str, Any] = {
        "id": bf.id_for_label or bf.html_name,
        "name": bf.html_name,
        "errorMessage": _error(bf),
    }
    if bf.help_text:
        base["hint"] = {"text": str(bf.help_text)}
    attrs = {k: v for k, v in widget.attrs.items() if k not in {"class", "id"} and v is not False}
    if bf.field.required and not isinstance(widget, forms.CheckboxInput):
        # Server-side validation gives the GOV.UK error; the browser's own bubble would not.
        attrs.pop("required", None)
    kind: str
    if isinstance(widget, forms.Textarea):
        kind = "textarea"
        base.update(label=label, value=_value(bf), rows=widget.attrs.get("rows", 5))
    elif isinstance(widget, forms.RadioSelect) and not isinstance(widget, forms.CheckboxSelectMultiple):
        kind = "radios"
        current = str(_value(bf))
        base.update(
            fieldset={"legend": {"text": str(bf.label), "isPageHeading": is_page_heading,
                                 "classes": label_classes or "govuk-fieldset__legend--s"}},
            items=[{"value": str(v), "text": str(t), "checked": str(v) == current}
                   for v, t in bf.field.choices],  # type: ignore[attr-defined]
        )
        base.pop("id")
        base["idPrefix"] = bf.html_name
    elif isinstance(widget, forms.CheckboxSelectMultiple):
        kind = "checkboxes"
        current_values = {str(v) for v in (bf.value() or [])}
        base.update(
            fieldset={"legend": {"text": str(bf.label), "classes": label_classes or "govuk-fieldset__legend--s"}},
            items=[{"value": str(v), "text": str(t), "checked": str(v) in current_values}
                   for v, t in bf.field.choices],  # type: ignore[attr-defined]
        )
        base.pop("id")
        base["idPrefix"] = bf.html_name
    elif isinstance(widget, forms.CheckboxInput):
        kind = "checkboxes"
        base.update(
            items=[{"value": "on", "text": str(bf.label), "checked": bool(bf.value()),
                    "id": bf.id_for_label, "hint": base.pop("hint", None)}],
        )
        base.pop("id")
        base["idPrefix"] = bf.html_name
    elif isinstance(widget, forms.Select):
        kind = "select"
        current = str(_value(bf))
        base.update(
            label=label,
            items=[{"value": str(v), "text": str(t), "selected": str(v) == current}
                   for v, t in bf.field.choices],  # type: ignore[attr-defined]
        )
    elif isinstance(widget, forms.ClearableFileInput | forms.FileInput):
        kind = "file"
        base.update(label=label)
    elif isinstance(widget, forms.PasswordInput):
        kind = "password"
        base.update(label=label, autocomplete=attrs.pop("autocomplete", "current-password"))
    else:
        kind = "input"
        input_type = getattr(widget, "input_type", "text")
        base.update(label=label, value=_value(bf), type=input_type)
        for key in ("autocomplete", "inputmode", "spellcheck"):
            if key in attrs:
                base[key] = attrs.pop(key)
        if input_type == "email":
            base.setdefault("autocomplete", "email")
            base["spellcheck"] = False
    if attrs:
        base["attributes"] = {k: ("" if v is True else v) for k, v in attrs.items()}
    base.update(overrides)
    return {"kind": kind, "params": base}


def error_summary_items(*forms_: forms.BaseForm) -> list[dict[str, str]]:
    """Every error of the given forms, each linking to its field, for govukErrorSummary."""
    items: list[dict[str, str]] = []
    for form in forms_:
        if form is None:
            continue
        for error in form.non_field_errors():
            items.append({"text": str(error), "href": "#main-content"})
        for name, errors in form.errors.items():
            if name == "__all__":
                continue
            bf = form[name]
            widget = bf.field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                # GOV.UK gives the first option of a group the field's name as its id.
                anchor = bf.html_name
            else:
                anchor = bf.id_for_label or bf.html_name
            for error in errors:
                items.append({"text": str(error), "href": f"#{anchor}"})
    return items
