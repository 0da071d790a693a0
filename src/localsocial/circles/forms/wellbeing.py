"""Forms for wellbeing check-ins: the three questions, and saying yes or no to being asked.

The forms read what was typed; the rules (who may, once a day) are the services'
(``circles.services.wellbeing``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from localsocial.circles.forms.help import DateInput
from localsocial.circles.models import LonelinessAnswer
from localsocial.circles.services.wellbeing import Answers

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _question(label: StrOrPromise, error: StrOrPromise) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=LonelinessAnswer.choices, coerce=int, widget=forms.RadioSelect,
        error_messages={"required": error, "invalid_choice": error},
    )


class CheckInForm(forms.Form):
    """The three-item UCLA loneliness scale, in the ONS's wording."""

    lack_companionship = _question(_("How often do you feel that you lack companionship?"),
                                   _("Choose how often you feel that you lack companionship"))
    left_out = _question(_("How often do you feel left out?"), _("Choose how often you feel left out"))
    isolated = _question(_("How often do you feel isolated from others?"),
                         _("Choose how often you feel isolated from others"))

    def __init__(self, *args: Any, assisted: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if assisted:
            # A coordinator may copy answers from a paper form filled in on another day.
            self.fields["taken_on"] = forms.DateField(
                label=_("When were they asked?"), required=False, widget=DateInput,
                input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                help_text=_("Leave it empty for today. Change it only when copying a paper form, for example "
                            "27/3/2026."),
                error_messages={"invalid": _("Enter the day as a real date, like 27/3/2026")},
            )

    def answers(self) -> Answers:
        data = self.cleaned_data
        return Answers(lack_companionship=data["lack_companionship"], left_out=data["left_out"],
                       isolated=data["isolated"])


class OptForm(forms.Form):
    """Yes or no to being asked.  A coordinator saying yes for a member confirms they agreed."""

    opt_in = forms.TypedChoiceField(
        label=_("Would you like to be asked these questions now and then?"),
        choices=[("yes", _("Yes")), ("no", _("No"))], coerce=lambda value: value == "yes", widget=forms.RadioSelect,
        error_messages={"required": _("Choose yes or no"), "invalid_choice": _("Choose yes or no")},
    )

    def __init__(self, *args: object, assisted: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if assisted:
            self.fields["opt_in"].label = _("Would they like to be asked these questions now and then?")
            self.fields["consent"] = forms.BooleanField(
                label=_("They agreed to be asked, and to their answers being kept"), required=False,
                help_text=_("Needed for yes. Saying no needs no agreement."),
            )
