"""The editorial workflow: drafts, named sign-off, what changed, and re-acknowledgment."""

import datetime
import functools
from unittest import mock

from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import CONTENT_EDITORS_GROUP
from education import services
from education.models import Acknowledgment, Assignment, Module, ModuleVersion, VersionReview
from portal import reminders
from portal.models import AuditEvent, Reminder
from tests.education.base import EducationTestCase, load_edit
from tests.factories import ClinicianFactory, PatientFactory

CHANGE = ("Ask your care team about CBT-I.", "Ask your care team about CBT-I at your next visit.")
Action = AuditEvent.Action


class LibraryTestCase(EducationTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        group = Group.objects.get(name=CONTENT_EDITORS_GROUP)
        cls.edith = ClinicianFactory(email="edith@example.org", full_name="Edith Editor", is_staff=True)
        cls.edward = ClinicianFactory(email="edward@example.org", full_name="Edward Editor", is_staff=True)
        cls.edith.groups.add(group)
        cls.edward.groups.add(group)

    def approval(self, **overrides):
        return {
            "reviewer_name": "Dana Reviewer",
            "credential": "PharmD",
            "reviewed_on": timezone.localdate().isoformat(),
            "what_changed": "We added when to ask about CBT-I.",
            "note": "",
        } | overrides

    def approve(self, version, editor=None, **overrides):
        self.sign_in(editor or self.edith)
        return self.client.post(
            reverse("portal:library_approve", args=[version.code]), self.approval(**overrides)
        )

    def current(self, slug="sleep-medicines"):
        return Module.objects.select_related("current_version").get(slug=slug).current_version


class DraftStateTests(LibraryTestCase):
    def test_a_loaded_file_is_a_draft_that_patients_do_not_see(self):
        before = self.current()
        draft = load_edit("sleep-medicines", *CHANGE)
        self.assertEqual(draft.state, "draft")
        self.assertEqual(self.current(), before)
        self.sign_in(self.pat)
        self.assertNotContains(self.client.get(self.url("reader")), "at your next visit")

    def test_approval_publishes_it_with_the_reviewers_name_credential_and_date(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        response = self.approve(draft)
        self.assertRedirects(response, reverse("portal:library_version", args=[draft.code]))
        review = VersionReview.objects.get(version=draft)
        self.assertEqual(
            (review.decision, review.reviewer_name, review.credential, review.decided_by),
            ("approved", "Dana Reviewer", "PharmD", self.edith),
        )
        self.assertEqual(self.current(), draft)
        self.sign_in(self.pat)
        reader = self.client.get(self.url("reader"))
        self.assertContains(reader, "at your next visit")
        self.assertContains(reader, f"Reviewed by Dana Reviewer, PharmD on {timezone.localdate():%-d %B %Y}")

    def test_rejection_keeps_the_draft_on_the_record_with_its_reason(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.sign_in(self.edith)
        self.client.post(reverse("portal:library_reject", args=[draft.code]), {"reason": "Cites no source."})
        draft.refresh_from_db()
        self.assertEqual((draft.state, draft.review.note), ("rejected", "Cites no source."))
        self.assertNotEqual(self.current(), draft)

    def test_a_module_whose_only_version_is_a_draft_cannot_be_assigned_and_the_form_says_why(self):
        module = Module.objects.create(slug="new-topic", title="A new topic", topic="sleep", summary="New.")
        self.sign_in(self.alice)
        page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(page, "A new topic: waiting for review, cannot be assigned yet")
        self.assertRegex(page.content.decode(), rf'value="{module.pk}"\s+id="id_modules_\d+" disabled')
        response = self.client.post(
            reverse("portal:patient_assign", args=[self.pat.code]),
            {"modules": [module.pk], "due_date": self.in_a_week.isoformat()},
        )
        self.assertContains(response, "cannot be assigned yet", status_code=400)
        self.assertFalse(Assignment.objects.filter(module=module).exists())

    def test_clinicians_see_who_reviewed_each_module_when_assigning(self):
        self.sign_in(self.alice)
        page = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(
            page, "Sleep medicines: short-term help, not a long-term fix · Reviewed by Test reviewer"
        )


class WhoMayDecideTests(LibraryTestCase):
    def test_a_clinician_who_is_not_an_editor_gets_a_404_and_nothing_is_written(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.sign_in(self.alice)
        for name in ("library_version", "library_approve"):
            response = self.client.post(reverse(f"portal:{name}", args=[draft.code]), self.approval())
            self.assertIn(response.status_code, (404, 405))
        self.assertFalse(VersionReview.objects.filter(version=draft).exists())

    def test_a_patient_gets_a_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(reverse("portal:library_review")).status_code, 404)

    def test_a_forged_version_code_is_a_404(self):
        self.sign_in(self.edith)
        response = self.client.post(reverse("portal:library_approve", args=[self.pat.code]), self.approval())
        self.assertEqual(response.status_code, 404)

    @override_settings(TWO_PERSON_REVIEW=True)
    def test_with_two_person_review_the_editor_who_loaded_a_draft_cannot_approve_it(self):
        self.sign_in(self.edith)
        load = functools.partial(services.load_library, self.library_with_change())
        with mock.patch("portal.views.library.education_services.load_library", load):
            self.client.post(reverse("portal:library_load"))
        draft = ModuleVersion.objects.drafts().get()
        self.assertEqual(draft.loaded_by, self.edith)
        self.assertTrue(AuditEvent.objects.filter(action=Action.DRAFTS_LOADED, actor=self.edith).exists())
        response = self.approve(draft, editor=self.edith)
        self.assertContains(response, "another content editor must decide", status_code=400)
        self.assertFalse(VersionReview.objects.filter(version=draft).exists())
        self.approve(draft, editor=self.edward)
        self.assertEqual(self.current(), draft)

    @override_settings(TWO_PERSON_REVIEW=False)
    def test_without_two_person_review_the_loader_may_approve(self):
        draft = load_edit("sleep-medicines", *CHANGE, loaded_by=self.edith)
        self.approve(draft, editor=self.edith)
        self.assertEqual(self.current(), draft)

    def library_with_change(self):
        import shutil
        import tempfile
        from pathlib import Path

        from education.content import CONTENT_DIR

        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        shutil.copytree(CONTENT_DIR, folder, dirs_exist_ok=True)
        module_file = folder / "sleep-medicines" / "module.md"
        module_file.write_text(module_file.read_text().replace(*CHANGE, 1))
        return folder


class BadApprovalTests(LibraryTestCase):
    def setUp(self):
        self.draft = load_edit("sleep-medicines", *CHANGE)

    def assert_nothing_written(self):
        self.assertFalse(VersionReview.objects.filter(version=self.draft).exists())
        self.assertNotEqual(self.current(), self.draft)

    def test_an_empty_credential_is_refused(self):
        response = self.approve(self.draft, credential="  ")
        self.assertContains(response, "This field is required", status_code=400)
        self.assert_nothing_written()

    def test_a_material_change_needs_what_changed(self):
        response = self.approve(self.draft, what_changed="")
        self.assertContains(response, "Say in a sentence or two what changed", status_code=400)
        self.assert_nothing_written()

    def test_a_future_review_date_is_refused(self):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        response = self.approve(self.draft, reviewed_on=tomorrow.isoformat())
        self.assertContains(response, "cannot be in the future", status_code=400)
        self.assert_nothing_written()

    def test_approving_twice_says_so_and_writes_nothing_more(self):
        self.approve(self.draft)
        response = self.approve(self.draft, editor=self.edward, reviewer_name="Someone Else")
        self.assertContains(response, "This version was already approved", status_code=400)
        self.assertEqual(VersionReview.objects.filter(version=self.draft).count(), 1)
        self.assertEqual(VersionReview.objects.get(version=self.draft).reviewer_name, "Dana Reviewer")

    def test_a_draft_that_fails_a_loader_check_now_is_refused(self):
        # A rule made stricter after the draft was loaded still stops it.
        with mock.patch("education.authoring.MAX_READING_GRADE", 1):
            response = self.approve(self.draft)
        self.assertContains(response, "fails the loader&#x27;s checks now", status_code=400)
        self.assertContains(response, "Flesch-Kincaid grade", status_code=400)
        self.assert_nothing_written()

    def test_an_older_draft_cannot_replace_a_newer_approved_version(self):
        newer = load_edit("sleep-medicines", CHANGE[0], "Ask your care team about CBT-I soon.")
        self.approve(newer)
        response = self.approve(self.draft, editor=self.edward)
        self.assertContains(response, "an older draft cannot replace it", status_code=400)
        self.assert_nothing_written()

    def test_a_rejection_needs_a_reason(self):
        self.sign_in(self.edith)
        response = self.client.post(reverse("portal:library_reject", args=[self.draft.code]), {"reason": ""})
        self.assertContains(response, "This field is required", status_code=400)
        self.assert_nothing_written()


class ReacknowledgmentTests(LibraryTestCase):
    """A material change asks every patient who acknowledged an earlier version to do it again."""

    def setUp(self):
        self.sign_in(self.pat)
        self.pass_quiz()
        self.acknowledge()  # completed
        self.other = PatientFactory(clinic=self.riverside, full_name="Opal Open")
        self.open = self.assign(self.other, self.sleep)
        self.sign_in(self.other)
        self.acknowledge(self.open, name="Opal Open")  # open: acknowledged, quiz not passed
        self.untouched = self.assign(PatientFactory(clinic=self.riverside), self.sleep)

    def approve_material(self, **overrides):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.approve(draft, **overrides)
        for assignment in (self.assignment, self.open, self.untouched):
            assignment.refresh_from_db()
        return draft

    def test_open_and_completed_assignments_that_were_acknowledged_are_asked_again(self):
        self.approve_material()
        self.assertIsNotNone(self.assignment.reacknowledge_since)
        self.assertIsNotNone(self.assignment.completed_at)  # completed stays completed
        self.assertIsNotNone(self.open.reacknowledge_since)
        self.assertIsNone(self.untouched.reacknowledge_since)  # never acknowledged: nothing to redo

    def test_the_patient_sees_updated_and_what_changed_then_acknowledges_again(self):
        self.approve_material()
        self.sign_in(self.pat)
        self.assertContains(self.client.get(reverse("education:my_modules")), "Updated: please review")
        reader = self.client.get(self.url("reader"))
        self.assertContains(reader, "What changed")
        self.assertContains(reader, "We added when to ask about CBT-I.")
        self.acknowledge()
        self.assignment.refresh_from_db()
        self.assertIsNone(self.assignment.reacknowledge_since)
        self.assertEqual(Acknowledgment.objects.filter(assignment=self.assignment).count(), 2)
        self.assertNotContains(self.client.get(self.url("reader")), "What changed")
        self.assertContains(self.client.get(reverse("education:my_modules")), "Completed")

    def test_the_quiz_is_not_required_again_unless_the_editor_says_so(self):
        self.approve_material(quiz_required_again="on")
        self.sign_in(self.pat)
        self.acknowledge()
        self.assignment.refresh_from_db()
        self.assertIsNotNone(self.assignment.reacknowledge_since)  # still the new quiz to pass
        self.pass_quiz()
        self.assignment.refresh_from_db()
        self.assertIsNone(self.assignment.reacknowledge_since)

    def test_the_clinician_sees_needs_to_re_acknowledge_with_the_date(self):
        self.approve_material()
        today = f"{timezone.localdate():%-d %b %Y}"
        self.sign_in(self.alice)
        self.assertContains(
            self.client.get(reverse("portal:patient_detail", args=[self.pat.code])),
            f"Needs to re-acknowledge (updated {today})",
        )
        self.assertContains(
            self.client.get(reverse("portal:dashboard")), f"needs to re-acknowledge (updated {today})"
        )

    def test_the_reminder_sweep_reminds_them_once_per_update(self):
        self.approve_material()
        self.assertEqual(reminders.plan_update_reminders(), 2)
        self.assertEqual(reminders.plan_update_reminders(), 0)
        self.assertEqual(
            set(Reminder.objects.filter(kind="updated").values_list("assignment", flat=True)),
            {self.assignment.pk, self.open.pk},
        )

    def test_a_non_material_correction_changes_nothing_for_patients(self):
        draft = load_edit("sleep-medicines", *CHANGE, material=False)
        self.approve(draft, what_changed="")
        self.assignment.refresh_from_db()
        self.assertEqual(self.current(), draft)
        self.assertIsNone(self.assignment.reacknowledge_since)
        self.sign_in(self.pat)
        self.assertContains(self.client.get(reverse("education:my_modules")), "Completed")


class AuditTests(LibraryTestCase):
    def test_approval_rejection_and_loading_go_on_the_audit_trail(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.approve(draft)
        other = load_edit(
            "stopping-safely", "Do not skip doses to cut down.", "Never skip doses to cut down."
        )
        self.client.post(reverse("portal:library_reject", args=[other.code]), {"reason": "Heading changed."})
        self.client.post(reverse("portal:library_load"))  # nothing new: no event
        events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor", "detail"))
        self.assertIn(
            (Action.VERSION_APPROVED, self.edith.pk, f"sleep-medicines version {draft.number}"), events
        )
        self.assertIn(
            (Action.VERSION_REJECTED, self.edith.pk, f"stopping-safely version {other.number}"), events
        )


class DiffTests(LibraryTestCase):
    def test_the_comparison_shows_the_changed_line_of_the_text_side_by_side(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.sign_in(self.edith)
        response = self.client.get(reverse("portal:library_diff", args=[draft.code]))
        rows = [row for row in response.context["body"] if row.kind == "changed"]
        self.assertEqual(len(rows), 1)
        self.assertIn(CHANGE[0], rows[0].left)
        self.assertIn(CHANGE[1], rows[0].right)
        self.assertEqual(
            [row.kind for row in response.context["quiz"] if row.kind not in ("same", "gap")], []
        )

    def test_it_shows_a_changed_quiz_choice(self):
        import shutil
        import tempfile
        from pathlib import Path

        from education.content import CONTENT_DIR

        with tempfile.TemporaryDirectory() as folder:
            shutil.copytree(CONTENT_DIR / "sleep-medicines", Path(folder) / "sleep-medicines")
            quiz = Path(folder) / "sleep-medicines" / "quiz.toml"
            text = quiz.read_text()
            first_explanation = text.index('explanation = "') + len('explanation = "')
            quiz.write_text(text[:first_explanation] + "Changed. " + text[first_explanation:])
            services.load_library(Path(folder))
        draft = ModuleVersion.objects.drafts().get()
        self.sign_in(self.edith)
        response = self.client.get(reverse("portal:library_diff", args=[draft.code]))
        changed = [row for row in response.context["quiz"] if row.kind == "changed"]
        self.assertEqual(len(changed), 1)
        self.assertIn("Changed. ", changed[0].right)


class QueryCountTests(LibraryTestCase):
    def many_drafts(self, count):
        for n in range(count):
            load_edit(
                "sleep-medicines", "Ask your care team about CBT-I.", f"Ask your care team about CBT-I ({n})."
            )

    def test_the_review_list_costs_the_same_at_any_number_of_versions(self):
        self.sign_in(self.edith)
        # session, user, editor group check, drafts with module and loader, modules with
        # version and decision, recent decisions with version and editor
        with self.assertNumQueries(6):
            self.client.get(reverse("portal:library_review"))
        self.many_drafts(5)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("portal:library_review"))
        self.assertEqual(len(queries), 6)
        self.assertEqual(len(response.context["drafts"]), 5)

    def test_the_comparison_costs_the_same_at_any_number_of_versions(self):
        draft = load_edit("sleep-medicines", *CHANGE)
        self.sign_in(self.edith)
        # session, user, editor group check, the version with module, current version and
        # decisions, both quiz banks with their questions
        with self.assertNumQueries(5):
            self.client.get(reverse("portal:library_diff", args=[draft.code]))
        self.many_drafts(5)
        with self.assertNumQueries(5):
            self.client.get(reverse("portal:library_diff", args=[draft.code]))
