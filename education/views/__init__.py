import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import patient_required
from accounts.forms import add_service_errors, posted_data
from education import selectors, services
from education.access import find_issued_draw, get_assignment_for_patient, get_attempt_for_patient
from education.forms import AcknowledgmentForm, QuizForm
from education.rendering import split_sections
from education.selectors import answers_as_shown


@patient_required
@require_GET
def my_modules(request):
    modules = selectors.my_modules(request.user, request.user.clinic.today())
    return render(request, "education/my_modules.html", {"modules": modules})


@patient_required
@require_GET
def reader(request, code):
    assignment = get_assignment_for_patient(request, code)
    services.mark_opened(assignment=assignment)
    progress = services.progress(assignment)
    version = assignment.module.current_version
    text = version.text_in(request.LANGUAGE_CODE)
    context = {
        "assignment": assignment,
        "version": version,
        "text": text,
        "fell_back": text.language != request.LANGUAGE_CODE,
        "progress": progress,
        "step": services.next_step_of(assignment, progress),
        "sections": _sections(version.pk, text),
        # One address for every section's "Ask at my visit", reversed once per page.
        "ask_url": reverse("education:ask_question", args=[assignment.code]),
    }
    return render(request, "education/reader.html", context)


def _sections(version_id: int, text) -> tuple[tuple[str, str, str], ...]:
    """The body cut into its sections, (anchor, heading, html), so that each can end with
    its own "Ask at my visit"."""
    return _cut_body(version_id, text.content_hash, text.body_html, tuple(text.sections.items()))


@functools.lru_cache(maxsize=64)
def _cut_body(version_id, content_hash, body_html, headings) -> tuple[tuple[str, str, str], ...]:
    """Once per published version in each process: a version's text never changes."""
    titles = dict(headings)
    return tuple((anchor, titles.get(anchor, ""), html) for anchor, html in split_sections(body_html))


@patient_required
@require_http_methods(["GET", "POST"])
def quiz(request, code):
    assignment = get_assignment_for_patient(request, code, with_text=False)
    if request.method == "GET":
        draw, questions = services.issue_draw(assignment=assignment)
        return _quiz_page(
            request,
            assignment,
            QuizForm(draw=draw, questions=questions, language=_shown(request, assignment)),
        )
    draw = find_issued_draw(assignment, request.POST.get("draw"))
    if draw is None:
        messages.error(request, services.UNKNOWN_DRAW)
        return redirect("education:quiz", code=assignment.code)
    if hasattr(draw, "attempt"):
        messages.info(request, _("You already sent these answers. Here is what they showed."))
        return redirect("education:quiz_result", code=draw.attempt.code)
    if draw.version_id != assignment.module.current_version_id:
        messages.warning(request, services.STALE_QUIZ)
        return redirect("education:reader", code=assignment.code)
    questions = services.drawn_questions(draw, assignment.module.current_version)
    form = QuizForm(request.POST, draw=draw, questions=questions, language=_shown(request, assignment))
    if form.is_valid():
        try:
            attempt = services.submit_quiz(
                assignment=assignment,
                draw=draw,
                answers=form.answers(),
                questions=questions,
                language=request.LANGUAGE_CODE,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("education:quiz_result", code=attempt.code)
    return _quiz_page(request, assignment, form)


def _quiz_page(request, assignment, form):
    context = {
        "assignment": assignment,
        "module": assignment.module,
        "version": assignment.module.current_version,
        "form": form,
    }
    return render(request, "education/quiz.html", context)


def _shown(request, assignment) -> str:
    """The language the module is shown in: the patient's, or English while theirs is out
    of date (the module row, loaded with the assignment, says which)."""
    return assignment.module.language_for(request.LANGUAGE_CODE)


@patient_required
@require_GET
def quiz_result(request, code):
    attempt = get_attempt_for_patient(request, code)
    progress = services.progress(attempt.assignment)
    context = {
        "attempt": attempt,
        "text": attempt.version.text_in(attempt.language),
        "assignment": attempt.assignment,
        "answers": answers_as_shown(attempt),
        "revealed": services.answers_revealed(attempt),
        "progress": progress,
        **_next_step_context(request, attempt.assignment, progress),
    }
    return render(request, "education/quiz_result.html", context)


def _next_step_context(request, assignment, progress) -> dict:
    """The step after this page, and once the module is done, which module comes next
    (or that none does: "All done for now")."""
    step = services.next_step_of(assignment, progress)
    context = {"step": step}
    if progress.done:
        context["next_assignment"] = selectors.my_modules(request.user, request.user.clinic.today()).next
        context["all_done"] = context["next_assignment"] is None
    return context


@patient_required
@require_http_methods(["GET", "POST"])
def acknowledge(request, code):
    assignment = get_assignment_for_patient(request, code)
    version = assignment.module.current_version
    form = AcknowledgmentForm(posted_data(request), full_name=request.user.full_name)
    if request.method == "POST" and form.is_valid():
        try:
            services.acknowledge(
                assignment=assignment,
                version=version,
                typed_name=form.cleaned_data["typed_name"],
                ip_address=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", ""),
                language=request.LANGUAGE_CODE,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you. Your acknowledgment is recorded."))
            return redirect("education:acknowledge", code=assignment.code)
    progress = services.progress(assignment)
    context = {
        "assignment": assignment,
        "version": version,
        "text": version.text_in(request.LANGUAGE_CODE),
        "form": form,
        "progress": progress,
        "acknowledgment": assignment.acknowledgments.select_related("receipt").first()
        if progress.acknowledged_at
        else None,
        **_next_step_context(request, assignment, progress),
    }
    status = 400 if form.errors else 200
    return render(request, "education/acknowledge.html", context, status=status)
