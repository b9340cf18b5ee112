"""The content editors' pages: drafts to review, a draft as patients would see it, what
changed since the approved version, and the decision. Every decision is a record beside the
version and an event on the audit trail."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import add_service_errors
from education import services as education_services
from education.content import ContentError
from education.models import Module, ModuleVersion, VersionReview
from education.selectors import bank_lines, side_by_side
from portal import audit
from portal.access import content_editor_required, get_version_for_editor
from portal.forms import ApproveVersionForm, RejectVersionForm
from portal.models import AuditEvent
from portal.wording import grouped

Action = AuditEvent.Action
RECENT_DECISIONS = 20


@content_editor_required
@require_GET
def review_list(request):
    modules = list(Module.objects.select_related("current_version__review").order_by("title"))
    context = {
        "drafts": ModuleVersion.objects.drafts()
        .select_related("module__current_version", "loaded_by")
        .order_by("module__title", "-number"),
        "due": [m for m in modules if m.current_version and m.current_version.review_due],
        "waiting": [m for m in modules if m.current_version is None],
        "decisions": VersionReview.objects.select_related("version__module", "decided_by")[:RECENT_DECISIONS],
    }
    return render(request, "portal/library/review_list.html", context)


@content_editor_required
@require_POST
def load_drafts(request):
    """Load the library files as drafts, recording who loaded them (two-person review)."""
    try:
        report = education_services.load_library(loaded_by=request.user)
    except ContentError as error:
        messages.error(
            request, _("Nothing was loaded. The files have problems: %(error)s") % {"error": error}
        )
    else:
        new = len(report.created) + len(report.updated)
        if new:
            audit.record(
                Action.DRAFTS_LOADED, request=request, detail=", ".join(report.created + report.updated)
            )
        messages.success(request, _loaded(new, len(report.unchanged)))
    return redirect("portal:library_review")


def _loaded(new: int, unchanged: int) -> str:
    """ "Loaded 2 new drafts; 1 module unchanged.": each count with its own plural."""
    drafts = ngettext("%(count)s new draft", "%(count)s new drafts", new) % {"count": grouped(new)}
    modules = ngettext("%(count)s module", "%(count)s modules", unchanged) % {"count": grouped(unchanged)}
    return _("Loaded %(drafts)s; %(modules)s unchanged.") % {"drafts": drafts, "modules": modules}


@content_editor_required
@require_GET
def version_detail(request, code):
    version = get_version_for_editor(request, code)
    return _version_page(request, version)


def _version_page(request, version, *, approve_form=None, reject_form=None, status=200):
    current = version.module.current_version
    context = {
        "version": version,
        "current": current,
        "problems": education_services.recheck(version) if version.state == "draft" else [],
        "questions": version.questions.prefetch_related("choices"),
        "material": current is not None and current != version and version.material_change,
        "approve_form": approve_form or ApproveVersionForm(initial={"reviewed_on": timezone.localdate()}),
        "reject_form": reject_form or RejectVersionForm(),
        "phone": request.GET.get("width") == "phone",
    }
    return render(request, "portal/library/version_detail.html", context, status=status)


@content_editor_required
@require_GET
def version_diff(request, code):
    version = get_version_for_editor(request, code)
    current = version.module.current_version
    if current is None or current == version:
        messages.info(request, _("There is no other approved version to compare this one with."))
        return redirect("portal:library_version", code=version.code)
    banks = bank_lines([current, version])
    context = {
        "version": version,
        "current": current,
        "body": side_by_side(current.body_markdown.splitlines(), version.body_markdown.splitlines()),
        "quiz": side_by_side(banks[current.pk], banks[version.pk]),
    }
    return render(request, "portal/library/version_diff.html", context)


@dataclass(frozen=True)
class Decision:
    """What approving and rejecting have in common: a form, a service, an audit action."""

    form: type
    decide: Callable
    action: str
    done: str
    form_name: str


DECISIONS = {
    "approve": Decision(
        ApproveVersionForm,
        education_services.approve_version,
        Action.VERSION_APPROVED,
        gettext_lazy("Approved version %(number)s of “%(title)s”. Patients read it now."),
        "approve_form",
    ),
    "reject": Decision(
        RejectVersionForm,
        education_services.reject_version,
        Action.VERSION_REJECTED,
        gettext_lazy("Rejected version %(number)s of “%(title)s”."),
        "reject_form",
    ),
}


@content_editor_required
@require_POST
def version_approve(request, code):
    return _decide(request, code, DECISIONS["approve"])


@content_editor_required
@require_POST
def version_reject(request, code):
    return _decide(request, code, DECISIONS["reject"])


def _decide(request, code, decision: Decision):
    version = get_version_for_editor(request, code)
    form = decision.form(request.POST)
    if form.is_valid():
        try:
            decision.decide(version=version, editor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _report(request, form, error)
        else:
            audit.record(decision.action, request=request, detail=_describe(version))
            messages.success(request, decision.done % {"number": version.number, "title": version.title})
            return redirect("portal:library_version", code=version.code)
    return _version_page(request, version, **{decision.form_name: form}, status=400)


def _report(request, form, error) -> None:
    """A field's problem on its field; a problem with the decision itself (decided already,
    one's own draft, the loader's checks) at the top of the page, where it is read."""
    if hasattr(error, "error_dict"):
        add_service_errors(form, error)
    else:
        for message in error.messages:
            messages.error(request, message)


def _describe(version) -> str:
    return f"{version.module.slug} version {version.number}"
