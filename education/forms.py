from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from education.models import VisitQuestion
from education.services import ACKNOWLEDGMENT_STATEMENT


class QuizForm(forms.Form):
    """One required radio group per drawn question, choices in the order drawn. A choice
    that is not one shown for its question is refused by the field before the service
    sees it; so is an answer to a question the page did not ask."""

    # Which draw the page showed: a submission for a draw never issued is refused.
    draw = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, draw, questions, language="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["draw"].initial = draw.code
        self.questions = questions
        for number, question in enumerate(questions, 1):
            self.fields[self.field_name(question)] = forms.TypedChoiceField(
                label=f"{number}. {question.text_in(language)}",
                choices=[(choice.pk, choice.text_in(language)) for choice in question.shown_choices],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please choose an answer to this question.")},
            )

    @staticmethod
    def field_name(question):
        return f"question_{question.pk}"

    def clean(self):
        asked = {self.field_name(question) for question in self.questions}
        if any(key.startswith("question_") and key not in asked for key in self.data):
            raise forms.ValidationError(
                _(
                    "This page sent an answer to a question it did not ask. Nothing was recorded; "
                    "please answer the questions shown."
                )
            )
        return super().clean()

    def answers(self) -> dict[int, int]:
        return {question.pk: self.cleaned_data[self.field_name(question)] for question in self.questions}


class AcknowledgmentForm(forms.Form):
    confirm = forms.BooleanField(
        label=ACKNOWLEDGMENT_STATEMENT,
        error_messages={"required": gettext_lazy("Tick the box to confirm the statement.")},
    )
    # Kept exactly as typed, spaces included: the record holds what the patient wrote.
    typed_name = forms.CharField(
        max_length=150,
        strip=False,
        help_text=gettext_lazy("Capital letters, accents, hyphens and spaces do not matter."),
        error_messages={"required": gettext_lazy("Type your name to confirm.")},
    )

    def __init__(self, *args, full_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["typed_name"].label = _("Type your name: %(name)s") % {"name": full_name}
        self.fields["typed_name"].widget.attrs["autocomplete"] = "name"

    def clean_typed_name(self):
        typed = self.cleaned_data["typed_name"]
        if not typed.strip():
            raise forms.ValidationError(_("Type your name to confirm."))
        return typed


class TypedText(forms.CharField):
    """Text from a textarea with its line breaks as one character each: browsers send them
    as two, and count them as one against the box's maxlength."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class QuestionForm(forms.Form):
    """A question for the visit: the patient's own words, about a part of a module."""

    text = TypedText(
        label=gettext_lazy("Your question"),
        max_length=VisitQuestion.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        # Django fills in %(limit_value)d, the maximum, and %(show_value)d, the length typed.
        error_messages={
            "required": gettext_lazy("Write your question first."),
            "max_length": gettext_lazy(
                "Keep your question to %(limit_value)d characters or fewer (it has %(show_value)d)."
            ),
        },
    )
    section = forms.SlugField(required=False, max_length=120, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the field: the limit goes into the sentence in the page's language.
        limit = {"limit": VisitQuestion.MAX_LENGTH}
        self.fields["text"].help_text = (
            _("Up to %(limit)s characters. Your care team sees it before your visit.") % limit
        )
