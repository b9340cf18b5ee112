"""The rules of caregivers' access and of their own learning records.

A caregiver reads the modules assigned to the patient who shares them, and the module for
family and caregivers; their quizzes and acknowledgments are theirs, recorded against the
access, never against the patient's assignments. Views record the audit trail."""

import logging
import smtplib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import services as account_services
from accounts.emails import templated_email
from accounts.models import User
from education import quiz
from education import services as education_services
from education.banks import quiz_banks
from education.models import Assignment, Module, ModuleVersion, Question
from portal.caregivers.models import CaregiverAccess, CaregiverAcknowledgment, CaregiverQuizAttempt

logger = logging.getLogger(__name__)

# The library's module written for the people who help a patient: every caregiver may read it.
CAREGIVER_MODULE_SLUG = "for-family-and-caregivers"

CLINICIAN_CONSENTS = (
    CaregiverAccess.Consent.IN_PERSON,
    CaregiverAccess.Consent.BY_PHONE,
    CaregiverAccess.Consent.IN_WRITING,
)


def consent_wording() -> str:
    """The statement the patient agrees to, in the language active where it is shown."""
    return _(
        "I let this person see the modules my care team assigns me and take their own quizzes. "
        "They will not see my quiz scores, my answers, my questions for the visit or my visits. "
        "I can end this at any time."
    )


@dataclass(frozen=True)
class Invited:
    access: CaregiverAccess
    email_sent: bool
    # True when the person had access already and was sent a new invitation link.
    resent: bool = False


OWN_ADDRESS = gettext_lazy("This is the patient's own email address. Enter the caregiver's address.")
YOUR_OWN_ADDRESS = gettext_lazy(
    "This is your own email address. Enter the address of the person who helps you."
)
UNUSABLE_ADDRESS = gettext_lazy(
    "This email address cannot be used for a caregiver. Ask them for another address."
)
ALREADY_SHARED = gettext_lazy("This person can already see the modules.")
NO_CONSENT = gettext_lazy("Record how the patient agreed: in person, by phone or in writing.")


def invite_caregiver(*, patient: User, invited_by: User, full_name: str, email: str, consent: str) -> Invited:
    """Give the person with `email` access to `patient`'s modules, creating their caregiver
    account and emailing its one-time link if they have none. The patient invites for
    themselves; a clinician of the patient's clinic only with the patient's consent, given
    in person, by phone or in writing. Inviting someone who has access but never set up
    their account sends them a new link. Raises ValidationError, writing nothing, on bad input."""
    _require_may_invite(patient, invited_by, consent)
    full_name, email = " ".join(full_name.split()), User.objects.normalize_email(email)
    if not full_name:
        raise ValidationError({"full_name": _("Enter the caregiver's name.")})
    if email == patient.email:
        raise ValidationError({"email": YOUR_OWN_ADDRESS if invited_by.pk == patient.pk else OWN_ADDRESS})
    existing = User.objects.filter(email=email).first()
    if existing is not None and (existing.is_clinician or not existing.is_active):
        # Staff or a closed account. A patient may help another (a spouse, say): their
        # address is treated like a caregiver's, so the answer does not tell them apart.
        raise ValidationError({"email": UNUSABLE_ADDRESS})
    with translation.override(patient.language):
        wording = consent_wording()
    access = CaregiverAccess(patient=patient, invited_by=invited_by, consent=consent, consent_wording=wording)
    if existing is None:
        sent = account_services.invite_caregiver_account(
            full_name=full_name,
            email=email,
            language=patient.language,
            sent_by=invited_by,
            clinic=patient.clinic,
            then=lambda added: _save(access, added),
        )
        return Invited(access, sent.email_sent)
    live = CaregiverAccess.objects.live().filter(patient=patient, caregiver=existing).first()
    if live is not None:
        return _invite_again(live, invited_by)
    try:
        with transaction.atomic():
            _save(access, existing)
    except IntegrityError as error:
        raise ValidationError({"email": ALREADY_SHARED}) from error
    return Invited(access, _email_the_way_in(access, invited_by))


def _invite_again(access: CaregiverAccess, invited_by: User) -> Invited:
    """A second invitation of someone who has access: a new link if they never set up
    their account (the first may have expired), otherwise a clear refusal."""
    if access.caregiver.is_patient or access.caregiver.has_usable_password():
        raise ValidationError({"email": ALREADY_SHARED})
    return Invited(access, _email_the_way_in(access, invited_by), resent=True)


def _email_the_way_in(access: CaregiverAccess, invited_by: User) -> bool:
    """A new invitation link for a caregiver who has not set up their account, or a notice
    for one who has, and for a patient (their own clinic's invitation sets up their account);
    the notice too if they set it up a moment ago."""
    if access.caregiver.is_caregiver and not access.caregiver.has_usable_password():
        try:
            return account_services.reinvite_caregiver(
                caregiver=access.caregiver, sent_by=invited_by, clinic=access.patient.clinic
            ).email_sent
        except ValidationError:
            pass  # they set their password meanwhile: tell them instead
    return _send_access_notice(access)


def _require_may_invite(patient: User, invited_by: User, consent: str) -> None:
    if not patient.is_active:
        raise ValidationError(_("This patient's account is inactive. Reactivate it first."))
    if invited_by.pk == patient.pk:
        if consent != CaregiverAccess.Consent.PATIENT:
            raise ValueError("a patient's own invitation is their consent")
        return
    if not (invited_by.is_clinician and invited_by.memberships.filter(clinic=patient.clinic_id).exists()):
        raise ValidationError(_("Only the patient or their care team can invite a caregiver."))
    if consent not in CLINICIAN_CONSENTS:
        raise ValidationError({"consent": NO_CONSENT})


def _save(access: CaregiverAccess, caregiver: User) -> CaregiverAccess:
    if CaregiverAccess.objects.live().filter(patient=access.patient, caregiver=caregiver).exists():
        raise IntegrityError("already has access")
    access.caregiver = caregiver
    access.save()
    return access


def _send_access_notice(access: CaregiverAccess) -> bool:
    """Tell a caregiver who already has an account that someone shares modules with them.
    The email names the clinic only: nothing about the patient or their health."""
    context = {
        "clinic_name": access.patient.clinic.name,
        "link": settings.SITE_URL + reverse("caregivers:home"),
    }
    try:
        templated_email("caregiver_access", context, access.caregiver).send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Caregiver access email %s could not be sent", access.code)
        return False
    return True


def patient_deactivated(patient: User) -> None:
    """The invitation links of caregivers who never set up their account and through this
    patient alone had a reason to: a deactivated patient's modules are closed to them."""
    for access in CaregiverAccess.objects.live().filter(patient=patient).select_related("caregiver"):
        caregiver = access.caregiver
        others = caregiver.cared_for.live().exclude(patient=patient).filter(patient__is_active=True)
        if _never_set_up_caregiver(caregiver) and not others.exists():
            account_services.revoke_invitations(caregiver)


def _never_set_up_caregiver(user: User) -> bool:
    """A caregiver account whose invitation link is its only way in. A patient who helps
    another is not one: their link is their own clinic's, and stays."""
    return user.is_caregiver and not user.has_usable_password()


def _in_language(language: str, words) -> str:
    with translation.override(language):
        return str(words)


def revoke_access(*, access: CaregiverAccess, revoked_by: User) -> bool:
    """End the caregiver's access at once; False if it had ended already. A caregiver who
    never set up their account and now has no one's access loses their invitation link."""
    with transaction.atomic():
        ended = CaregiverAccess.objects.filter(pk=access.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=revoked_by
        )
        caregiver = access.caregiver
        if ended and _never_set_up_caregiver(caregiver) and not caregiver.cared_for.live().exists():
            account_services.revoke_invitations(caregiver)
    access.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return bool(ended)


# What a caregiver reads ---------------------------------------------------------------------


def readable_modules(access: CaregiverAccess):
    """The modules the caregiver may read through `access`: the patient's assigned ones
    not cancelled, and the module for family and caregivers, each with its current version."""
    # A subquery, not a join: a module assigned twice (once completed, once open) is one
    # row without DISTINCT, which would compare whole version rows.
    assigned = Assignment.objects.filter(patient=access.patient_id).not_cancelled().values("module_id")
    return (
        Module.objects.filter(
            Q(pk__in=assigned) | Q(slug=CAREGIVER_MODULE_SLUG), current_version__isnull=False
        )
        .select_related("current_version")
        .defer("current_version__body_markdown", "current_version__translations")
        .order_by("title")
    )


@dataclass(frozen=True)
class CaregiverProgress:
    passed: bool
    acknowledged: bool


def progress_by_module(access: CaregiverAccess, modules) -> dict[int, CaregiverProgress]:
    """Whether the caregiver passed their own quiz on, and acknowledged, each module's
    current version (two queries, whatever the number of modules)."""
    module_of = {module.current_version_id: module.pk for module in modules}
    mine = {"access": access, "version__in": module_of}
    passed = set(
        CaregiverQuizAttempt.objects.filter(**mine, passed=True).values_list("version_id", flat=True)
    )
    acknowledged = set(CaregiverAcknowledgment.objects.filter(**mine).values_list("version_id", flat=True))
    return {
        module_id: CaregiverProgress(version_id in passed, version_id in acknowledged)
        for version_id, module_id in module_of.items()
    }


# The caregiver's quiz -------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedDraw:
    """A caregiver's draw, carried in the page signed rather than stored: what was asked is
    stored with the answers (`CaregiverQuizAttempt.answers`). `code` is the signed value."""

    code: str
    version_id: int
    layout: list
    key: uuid.UUID


DRAW_SALT = "caregiver-quiz-draw"
DRAW_MAX_AGE = 24 * 3600


def issue_draw(access: CaregiverAccess, version: ModuleVersion) -> tuple[SignedDraw, list[Question]]:
    bank = quiz_banks([version])[version.pk]
    question_ids = quiz.draw_questions({pk: q.concept_key for pk, q in bank.questions.items()})
    layout = [[pk, quiz.shuffled([c.pk for c in bank.choices[pk]])] for pk in question_ids]
    key = uuid.uuid4()
    payload = {"access": access.pk, "version": version.pk, "layout": layout, "key": str(key)}
    draw = SignedDraw(signing.dumps(payload, salt=DRAW_SALT), version.pk, layout, key)
    return draw, education_services.drawn_questions(draw, version)


def read_draw(access: CaregiverAccess, version: ModuleVersion, signed: str) -> SignedDraw | None:
    """The draw a quiz page carried if this site signed it for this access and version in
    the last day; None for anything else (forged, altered, stale, another caregiver's)."""
    try:
        payload = signing.loads(signed or "", salt=DRAW_SALT, max_age=DRAW_MAX_AGE)
    except signing.BadSignature:
        return None
    if payload.get("access") != access.pk or payload.get("version") != version.pk:
        return None
    return SignedDraw(signed, version.pk, payload["layout"], uuid.UUID(payload["key"]))


def submit_quiz(
    *,
    access: CaregiverAccess,
    version: ModuleVersion,
    draw: SignedDraw,
    answers: dict[int, int],
    language: str,
) -> CaregiverQuizAttempt:
    """Score and record the caregiver's answers; the same draw answered again returns the
    first attempt and records nothing."""
    earlier = CaregiverQuizAttempt.objects.filter(access=access, submission_key=draw.key).first()
    if earlier:
        return earlier
    questions = education_services.drawn_questions(draw, version)
    chosen = education_services.checked_choices(questions, answers)
    correct = sum(1 for choice in chosen if choice.is_correct)
    shown = [
        [q.pk, [c.pk for c in q.shown_choices], c.pk, c.is_correct]
        for q, c in zip(questions, chosen, strict=True)
    ]
    try:
        with transaction.atomic():
            return CaregiverQuizAttempt.objects.create(
                access=access,
                version=version,
                submission_key=draw.key,
                answers=shown,
                correct_count=correct,
                question_count=len(chosen),
                passed=round(100 * correct / len(chosen)) >= version.pass_mark,
                language=version.language_for(language),
            )
    except IntegrityError:
        return CaregiverQuizAttempt.objects.get(access=access, submission_key=draw.key)


def answers_revealed(attempt: CaregiverQuizAttempt) -> bool:
    """The right answers show once the caregiver has passed, or after the version's number
    of failed attempts, as for patients (education.quiz)."""
    tally = list(
        CaregiverQuizAttempt.objects.filter(access=attempt.access_id, version=attempt.version_id).values_list(
            "passed", flat=True
        )
    )
    return quiz.answers_revealed(
        passed_any=any(tally),
        failed_count=tally.count(False),
        reveal_after_fails=attempt.version.reveal_answers_after_fails,
    )


# The caregiver's acknowledgment -------------------------------------------------------------

# The care team is the patient's, not the caregiver's: the patients' statement says "my care team".
CAREGIVER_STATEMENT = gettext_lazy(
    "I have read and understood this information, and I know the care team of the person I help "
    "can answer questions about it."
)


def acknowledge(
    *, access: CaregiverAccess, version: ModuleVersion, typed_name: str, language: str
) -> CaregiverAcknowledgment:
    """Record that the caregiver read `version`, in their own name; again returns the first."""
    earlier = CaregiverAcknowledgment.objects.filter(access=access, version=version).first()
    if earlier:
        return earlier
    caregiver = access.caregiver
    if not education_services.names_match(typed_name, caregiver.full_name):
        raise ValidationError(
            {
                "typed_name": _(
                    "This is not the name on your account. Type %(name)s; "
                    "capital letters, accents, hyphens and spaces do not matter."
                )
                % {"name": caregiver.full_name}
            }
        )
    shown = version.text_in(language)
    try:
        with transaction.atomic():
            return CaregiverAcknowledgment.objects.create(
                access=access,
                module_id=version.module_id,
                version=version,
                content_hash=shown.content_hash,
                language=shown.language,
                statement=_in_language(shown.language, CAREGIVER_STATEMENT),
                typed_name=typed_name,
            )
    except IntegrityError:
        return CaregiverAcknowledgment.objects.get(access=access, version=version)
