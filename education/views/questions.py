"""The patient's questions for their next visit: asked while reading or after a quiz,
listed on one page, withdrawn from it."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import patient_required
from accounts.forms import add_service_errors, posted_next
from education import services
from education.access import get_assignment_for_patient, get_question_for_patient
from education.forms import QuestionForm
from education.models import VisitQuestion

SAVED = gettext_lazy(
    "Your question is saved for your visit. You can see or withdraw it on “Questions for my visit”."
)


@patient_required
@require_POST
def ask(request, code):
    """Keep the question and go back to where it was asked; a bad one is shown again on a
    page of its own with what to change, the words kept."""
    assignment = get_assignment_for_patient(request, code, with_text=False)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.ask_question(
                assignment=assignment, section=form.cleaned_data["section"], text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, SAVED)
            return redirect(_asked_from(request, assignment, form.cleaned_data["section"]))
    context = {"assignment": assignment, "form": form}
    return render(request, "education/ask_question.html", context, status=400)


def _asked_from(request, assignment, section: str) -> str:
    """Back where the question was asked: the page it names (the quiz result), or the
    section of the reader."""
    back = posted_next(request)
    if back:
        return back
    url = reverse("education:reader", args=[assignment.code])
    return f"{url}#{section}" if section else url


@patient_required
@require_GET
def my_questions(request):
    questions = (
        VisitQuestion.objects.of_patient(request.user)
        .select_related("assignment__module")
        .order_by("-asked_at", "-pk")
    )
    return render(request, "education/my_questions.html", {"questions": questions})


@patient_required
@require_POST
def withdraw(request, code):
    question = get_question_for_patient(request, code)
    try:
        services.withdraw_question(question=question)
    except ValidationError as error:
        messages.info(request, error.messages[0])
    else:
        messages.success(
            request, _("Your question is withdrawn. Your care team will not see it as one to answer.")
        )
    return redirect("education:my_questions")
