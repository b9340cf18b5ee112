from django import forms

from education.services import ACKNOWLEDGMENT_STATEMENT


class QuizForm(forms.Form):
    """One required radio group per drawn question, choices in the order drawn. A choice
    that is not one shown for its question is refused by the field before the service
    sees it; so is an answer to a question the page did not ask."""

    # Which draw the page showed: a submission for a draw never issued is refused.
    draw = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, draw, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["draw"].initial = draw.code
        self.questions = questions
        for number, question in enumerate(questions, 1):
            self.fields[self.field_name(question)] = forms.TypedChoiceField(
                label=f"{number}. {question.text}",
                choices=[(choice.pk, choice.text) for choice in question.shown_choices],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Please choose an answer to this question."},
            )

    @staticmethod
    def field_name(question):
        return f"question_{question.pk}"

    def clean(self):
        asked = {self.field_name(question) for question in self.questions}
        if any(key.startswith("question_") and key not in asked for key in self.data):
            raise forms.ValidationError(
                "This page sent an answer to a question it did not ask. Nothing was recorded; "
                "please answer the questions shown."
            )
        return super().clean()

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
