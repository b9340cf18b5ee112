from django import forms

from education.services import ACKNOWLEDGMENT_STATEMENT


class QuizForm(forms.Form):
    """One required radio group per question. A choice id that is not one of the
    question's own is refused by the field before the service sees it."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    # Which version the page showed: a page opened before an update must not be scored.
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, version, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = version.pk
        self.questions = questions
        for number, question in enumerate(questions, 1):
            self.fields[self.field_name(question)] = forms.TypedChoiceField(
                label=f"{number}. {question.text}",
                choices=[(choice.pk, choice.text) for choice in question.choices.all()],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Please choose an answer to this question."},
            )

    @staticmethod
    def field_name(question):
        return f"question_{question.pk}"

    def answers(self) -> dict[int, int]:
        return {question.pk: self.cleaned_data[self.field_name(question)] for question in self.questions}


class AcknowledgmentForm(forms.Form):
    confirm = forms.BooleanField(
        label=ACKNOWLEDGMENT_STATEMENT,
        error_messages={"required": "Tick the box to confirm the statement."},
    )
    typed_name = forms.CharField(
        label="Type your full name",
        max_length=150,
        help_text="As it appears on your account. Capital letters and extra spaces do not matter.",
    )
