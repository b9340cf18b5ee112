"""The caregiver's pages: the patients who share modules with them, each module, and
their own quiz and acknowledgment. Every page is on the patient's audit trail."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import add_service_errors, posted_data
from education import services as education_services
from education.banks import quiz_banks
from education.forms import AcknowledgmentForm
from portal import audit
from portal.caregivers import services
from portal.caregivers.access import (
    caregiver_required,
    get_access_for_caregiver,
    get_attempt_for_caregiver,
    get_module_for_caregiver,
    live_accesses_of,
)
from portal.caregivers.forms import CaregiverQuizForm
from portal.models import AuditEvent

# The kinds of caregiver page, as the patient's "Who viewed my record" names them.
PAGE_ACTIONS = {
    "module list": AuditEvent.Action.CAREGIVER_VIEWED,
    "module": AuditEvent.Action.CAREGIVER_VIEWED,
    "quiz": AuditEvent.Action.CAREGIVER_QUIZ,
    "quiz result": AuditEvent.Action.CAREGIVER_QUIZ,
    "acknowledgment": AuditEvent.Action.CAREGIVER_CONFIRMATION,
}


def _viewed(request, access, page: str) -> None:
    """On the patient's trail: which caregiver opened which kind of page, never its topic."""
    audit.record(
        PAGE_ACTIONS[page],
        request=request,
        patient=access.patient,
        detail=f"caregiver access {access.code}: {page}",
    )


@caregiver_required
@require_GET
def home(request):
    sharing = []
    for access in (
        live_accesses_of(request.user).select_related("patient__clinic").order_by("patient__full_name")
    ):
        modules = list(services.readable_modules(access))
        mine = services.progress_by_module(access, modules)
        for module in modules:
            module.mine = mine.get(module.pk)
        sharing.append((access, modules))
        _viewed(request, access, "module list")
    return render(request, "caregivers/home.html", {"sharing": sharing})


def _opened(request, access_code, version_code, page: str):
    """The access and the shared module a caregiver's page is about, on the patient's trail."""
    access = get_access_for_caregiver(request, access_code)
    module = get_module_for_caregiver(access, version_code)
    _viewed(request, access, page)
    return access, module


@caregiver_required
@require_GET
def reader(request, access, version):
    access, module = _opened(request, access, version, "module")
    text = module.current_version.text_in(request.LANGUAGE_CODE)
    context = {
        "access": access,
        "module": module,
        "version": module.current_version,
        "text": text,
        # The body in the reader's language as one section: no "Ask at my visit" forms, the
        # visit being the patient's.
        "sections": (("", "", text.body_html),),
    }
    return render(request, "caregivers/reader.html", context)


@caregiver_required
@require_http_methods(["GET", "POST"])
def quiz(request, access, version):
    access, module = _opened(request, access, version, "quiz")
    version = module.current_version
    language = module.language_for(request.LANGUAGE_CODE)
    if request.method == "GET":
        draw, questions = services.issue_draw(access, version)
        form = CaregiverQuizForm(draw=draw, questions=questions, language=language)
        return _quiz_page(request, access, module, form)
    draw = services.read_draw(access, version, request.POST.get("draw"))
    if draw is None:
        messages.error(request, education_services.UNKNOWN_DRAW)
        return redirect("caregivers:quiz", access=access.code, version=version.code)
    questions = education_services.drawn_questions(draw, version)
    form = CaregiverQuizForm(request.POST, draw=draw, questions=questions, language=language)
    if form.is_valid():
        try:
            attempt = services.submit_quiz(
                access=access, version=version, draw=draw, answers=form.answers(), language=language
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("caregivers:quiz_result", code=attempt.code)
    return _quiz_page(request, access, module, form, status=400)


def _quiz_page(request, access, module, form, status=200):
    context = {"access": access, "module": module, "version": module.current_version, "form": form}
    return render(request, "caregivers/quiz.html", context, status=status)


@caregiver_required
@require_GET
def quiz_result(request, code):
    attempt = get_attempt_for_caregiver(request, code)
    _viewed(request, attempt.access, "quiz result")
    context = {
        "attempt": attempt,
        "access": attempt.access,
        "text": attempt.version.text_in(attempt.language),
        "answers": _answers_as_shown(attempt),
        "revealed": services.answers_revealed(attempt),
        "current": attempt.version.module.current_version_id == attempt.version_id,
    }
    return render(request, "caregivers/quiz_result.html", context)


def _answers_as_shown(attempt):
    """Each question as asked, with the caregiver's choice and the right one."""
    bank = quiz_banks([attempt.version])[attempt.version_id]
    shown = []
    for number, (question_id, _choices, chosen_id, correct) in enumerate(attempt.answers, 1):
        choices = {choice.pk: choice for choice in bank.choices[question_id]}
        right = next(choice for choice in choices.values() if choice.is_correct)
        shown.append(
            {
                "number": number,
                "question": bank.questions[question_id],
                "chosen": choices[chosen_id],
                "right_choice": right,
                "is_correct": correct,
            }
        )
    return shown


@caregiver_required
@require_http_methods(["GET", "POST"])
def acknowledge(request, access, version):
    access, module = _opened(request, access, version, "acknowledgment")
    version = module.current_version
    form = AcknowledgmentForm(posted_data(request), full_name=request.user.full_name)
    form.fields["confirm"].label = services.CAREGIVER_STATEMENT
    if request.method == "POST" and form.is_valid():
        try:
            services.acknowledge(
                access=access,
                version=version,
                typed_name=form.cleaned_data["typed_name"],
                language=request.LANGUAGE_CODE,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you. Your acknowledgment is recorded as yours."))
            return redirect("caregivers:home")
    context = {
        "access": access,
        "module": module,
        "version": version,
        "text": version.text_in(request.LANGUAGE_CODE),
        "form": form,
        "acknowledged": access.acknowledgments.filter(version=version).exists(),
    }
    return render(request, "caregivers/acknowledge.html", context, status=400 if form.errors else 200)
