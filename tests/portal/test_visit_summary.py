import csv
import datetime
import io

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from accounts.models import User
from education import services as education_services
from education.models import Module
from portal import tasks
from portal.models import ClinicFigures
from tests.education.base import EducationTestCase
from tests.factories import PatientFactory, VisitFactory

# Positions in the sleep bank of five questions with five different concepts.
ONE_PER_CONCEPT = [1, 3, 5, 7, 9]


class VisitSummaryTestCase(EducationTestCase):
    def setUp(self):
        self.breathing = Module.objects.get(slug="breathing-and-interactions")
        self.not_started = self.assign(self.pat, self.breathing)
        self.sign_in(self.pat)
        # The same five questions, one per concept: three missed, then only the fifth.
        self.client.post(self.url("quiz"), self.answers(right=2, positions=ONE_PER_CONCEPT))
        self.client.post(self.url("quiz"), self.answers(right=4, positions=ONE_PER_CONCEPT))
        self.acknowledge()
        self.sign_in(self.alice)
        self.visit = VisitFactory(
            patient=self.pat,
            clinician=self.alice,
            scheduled_at=datetime.datetime(2031, 3, 4, 14, 0, tzinfo=datetime.UTC),
            assignments=[self.assignment, self.not_started],
        )

    def summary_url(self, name="visit_summary", visit=None):
        return reverse(f"portal:{name}", args=[(visit or self.visit).code])


class VisitSummaryTests(VisitSummaryTestCase):
    def test_it_shows_acknowledgment_best_and_latest_score_missed_questions_and_what_is_not_done(self):
        response = self.client.get(self.summary_url())
        self.assertContains(response, "Acknowledged version 1 on")
        self.assertContains(response, "<td>80% / 80%</td>", html=True)  # best / latest
        self.assertContains(response, "latest quiz 80% on")
        self.assertContains(response, "<td>Not started</td>", html=True)

    def test_talking_points_are_the_concepts_not_yet_shown_with_what_was_asked_and_chosen(self):
        records = self.client.get(self.summary_url()).context["records"]
        sleep = next(record for record in records if record.assignment == self.assignment)
        version = self.sleep.current_version
        missed_twice = version.questions.get(position=9)
        self.assertEqual([c.key for c in sleep.still_missed], [missed_twice.concept])
        response = self.client.get(self.summary_url())
        self.assertContains(response, escape(version.concepts[missed_twice.concept]))
        self.assertContains(response, "(missed 2 times)")
        self.assertContains(response, escape(missed_twice.text))
        wrong_choice = missed_twice.choices.filter(is_correct=False).first()
        self.assertContains(response, f"“{escape(wrong_choice.text)}”")
        self.assertContains(response, "Passed on attempt 2 of 2.")

    def test_a_concept_missed_once_and_answered_right_since_is_not_a_talking_point(self):
        records = self.client.get(self.summary_url()).context["records"]
        sleep = next(record for record in records if record.assignment == self.assignment)
        version = self.sleep.current_version
        recovered = {version.questions.get(position=n).concept for n in (5, 7)}
        self.assertTrue(recovered <= {c.key for c in sleep.mastered})
        self.assertFalse(recovered & {c.key for c in sleep.still_missed})

    def test_it_shows_the_visit_time_in_the_clinics_time_zone(self):
        self.assertContains(
            self.client.get(self.summary_url()), "Tuesday 4 March 2031, 14:00 (Europe/London)"
        )

    def test_another_clinics_clinician_gets_a_404(self):
        self.sign_in(self.charlie)
        self.assertEqual(self.client.get(self.summary_url()).status_code, 404)
        self.assertEqual(self.client.get(self.summary_url("visit_pdf")).status_code, 404)

    def test_a_patient_gets_a_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(self.summary_url()).status_code, 404)


class VisitPdfTests(VisitSummaryTestCase):
    def pdf_text(self, response) -> str:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        return " ".join(text.split())

    def test_the_pdf_holds_two_identifiers_the_visit_and_every_modules_row(self):
        User.objects.filter(pk=self.pat.pk).update(
            date_of_birth=datetime.date(1961, 5, 17), record_number="MRN-4471"
        )
        response = self.client.get(self.summary_url("visit_pdf"))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(response["Cache-Control"], "private, no-store")
        self.assertNotIn("Pat", response["Content-Disposition"])
        text = self.pdf_text(response)
        for expected in (
            "Pat Patient",
            "born 17 May 1961",
            "record number MRN-4471",
            "Tue 04 Mar 2031, 14:00 (Europe/London) with Alice Clinician",
            self.sleep.title,
            self.breathing.title,
            "Not started",
            "Talking points: not yet shown",
            "Version 1",
            "80% / 80%",
            "[ ] needs review",
        ):
            self.assertIn(expected, text)
        missed_twice = self.sleep.current_version.questions.get(position=9)
        label = self.sleep.current_version.concepts[missed_twice.concept]
        self.assertIn(" ".join(label.split()[:3]), text)

    def test_six_modules_with_three_talking_points_each_fit_on_one_page(self):
        linked = list(Module.objects.order_by("title")[:6])
        self.visit.assignments.clear()
        for module in linked:
            assignment = (
                self.assignment
                if module == self.sleep
                else self.not_started
                if module == self.breathing
                else self.assign(self.pat, module)
            )
            self.visit.assignments.add(assignment)
            self.sign_in(self.pat)
            self.client.post(self.url("quiz", assignment), self.answers(assignment, right=2))
            education_services.ask_question(
                assignment=assignment, section="", text="Is it safe to take this with my pain pills at night?"
            )
        self.sign_in(self.alice)
        rows = self.client.get(self.summary_url()).context["rows"]
        self.assertEqual(len(rows), 6)
        self.assertTrue(
            all(len(row.talking_points) >= 3 for row in rows), [len(r.talking_points) for r in rows]
        )
        response = self.client.get(self.summary_url("visit_pdf"))
        self.assertEqual(len(PdfReader(io.BytesIO(response.content)).pages), 1)
        text = self.pdf_text(response)
        for module in linked:
            self.assertIn(" ".join(module.title.split()[:2]), text)


class OnePageSummaryTests(VisitSummaryTestCase):
    def test_modules_needing_attention_come_first_with_their_talking_points(self):
        self.sign_in(self.pat)
        self.pass_quiz(self.not_started)
        self.client.get(self.url("reader", self.not_started))
        self.acknowledge(self.not_started)
        self.sign_in(self.alice)
        rows = self.client.get(self.summary_url()).context["rows"]
        # Sleep still has a safety point not shown; breathing is done and passed cleanly.
        self.assertEqual([row.record.assignment for row in rows], [self.assignment, self.not_started])
        self.assertEqual([row.needs_attention for row in rows], [True, False])
        self.assertEqual(len(rows[0].talking_points), 1)

    def test_the_header_names_the_patient_with_two_identifiers(self):
        User.objects.filter(pk=self.pat.pk).update(
            date_of_birth=datetime.date(1961, 5, 17), record_number="MRN-4471"
        )
        response = self.client.get(self.summary_url())
        self.assertContains(response, "born 17 May 1961 · record number MRN-4471")
        self.assertContains(response, "Modules, those needing attention first")


class VisitHeldTests(VisitSummaryTestCase):
    def test_the_clinician_marks_the_visit_held_with_a_note(self):
        response = self.client.post(
            self.summary_url("visit_held"), {"note": "Talked about tapering."}, follow=True
        )
        self.visit.refresh_from_db()
        self.assertEqual((self.visit.held_by, self.visit.held_note), (self.alice, "Talked about tapering."))
        self.assertContains(response, "Talked about tapering.")

    def test_a_held_visit_keeps_its_table_as_it_stood_while_the_patient_goes_on(self):
        self.client.post(self.summary_url("visit_held"), {"note": "Went over breathing."})
        # After the visit the patient opens and passes the module that was not started.
        self.sign_in(self.pat)
        self.client.get(self.url("reader", self.not_started))
        self.client.post(self.url("quiz", self.not_started), self.answers(self.not_started, right=5))
        self.sign_in(self.alice)
        response = self.client.get(self.summary_url())
        rows = {row.title: row for row in response.context["rows"]}
        self.assertEqual(rows[self.breathing.title].status_label, "Not started")
        self.assertEqual(rows[self.breathing.title].scores, "No quiz yet")
        self.assertContains(response, "As they stood when the visit was held on")
        # A visit still planned shows today's results.
        planned = VisitFactory(
            patient=self.pat, clinician=self.alice, in_days=5, assignments=[self.not_started]
        )
        live = self.client.get(self.summary_url(visit=planned)).context["rows"]
        self.assertEqual(live[0].scores, "100% / 100%")
        pdf = self.client.get(self.summary_url("visit_pdf"))
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        self.assertIn("No quiz\nyet", text)  # wrapped in its narrow column

    def test_a_note_is_required_and_limited(self):
        self.assertContains(
            self.client.post(self.summary_url("visit_held"), {"note": ""}), "required", status_code=400
        )
        response = self.client.post(self.summary_url("visit_held"), {"note": "x" * 2001})
        self.assertContains(response, "at most 2000 characters", status_code=400)
        self.visit.refresh_from_db()
        self.assertIsNone(self.visit.held_at)

    def test_another_clinics_clinician_cannot_mark_it(self):
        self.sign_in(self.charlie)
        self.assertEqual(self.client.post(self.summary_url("visit_held"), {"note": "x"}).status_code, 404)
        self.visit.refresh_from_db()
        self.assertIsNone(self.visit.held_at)


class OverviewTests(VisitSummaryTestCase):
    def test_it_shows_completion_per_module_and_the_most_missed_questions_with_numbers(self):
        response = self.client.get(reverse("portal:overview"))
        sleep = next(m for m in response.context["modules"] if m.pk == self.sleep.pk)
        self.assertEqual((sleep.completed, sleep.assigned, sleep.rate), (1, 1, 100))
        top = response.context["missed"][0]
        self.assertEqual((top["missed"], top["answered"], top["rate"]), (2, 2, 100))
        self.assertContains(response, "<svg", count=2)
        # One bar per module, in a chart tall enough to show them all.
        self.assertContains(response, 'fill="#0d6efd"', count=Module.objects.count())
        self.assertContains(response, f'viewBox="0 0 420 {40 * Module.objects.count()}"')

    def test_another_clinics_results_are_not_counted(self):
        self.sign_in(self.charlie)
        response = self.client.get(reverse("portal:overview"))
        sleep = next(m for m in response.context["modules"] if m.pk == self.sleep.pk)
        self.assertEqual(sleep.assigned, 0)
        self.assertEqual(response.context["missed"], [])


class VisitSummaryQueryCountTests(VisitSummaryTestCase):
    def test_the_summary_costs_the_same_for_two_modules_as_for_all_of_them(self):
        # The versions that still count, and each version's questions and choices, are read
        # once per version in each process.
        self.client.get(self.summary_url())
        # 1 session, 2 user, 3 the visit with patient, clinic and clinician, 4 the patient's
        # open questions for the visit with their module, 5 the audit row, 6 the linked
        # assignments with module, version and people, 7 the patient's attempts, 8 their
        # acknowledgments, 9 the attempts' answers, 10 the patient's teach-back records
        with self.assertNumQueries(10):
            self.client.get(self.summary_url())
        for module in Module.objects.exclude(pk__in=[self.sleep.pk, self.breathing.pk]):
            assignment = self.assign(self.pat, module)
            self.visit.assignments.add(assignment)
            self.sign_in(self.pat)
            self.client.post(self.url("quiz", assignment), self.answers(assignment, right=1))
            education_services.ask_question(assignment=assignment, section="", text="What if I miss one?")
        self.sign_in(self.alice)
        self.client.get(self.summary_url())
        with self.assertNumQueries(10):
            response = self.client.get(self.summary_url())
        self.assertEqual(len(response.context["records"]), Module.objects.count())


class OverviewFiguresTests(VisitSummaryTestCase):
    def overview(self):
        return self.client.get(reverse("portal:overview"))

    def sleep_row(self, response):
        return next(m for m in response.context["modules"] if m.pk == self.sleep.pk)

    def test_figures_are_summarised_once_and_read_from_then_on_at_a_fixed_cost(self):
        self.overview()
        PatientFactory.create_batch(30, clinic=self.riverside)
        # 1 session, 2 user, 3 the clinician's clinics, 4 their stored figures, 5 module
        # titles, 6 the most-missed questions' text, 7 whether they administer a clinic
        with self.assertNumQueries(7):
            response = self.overview()
        self.assertContains(response, "Figures as of")

    def test_figures_older_than_their_age_limit_are_summarised_again(self):
        self.assertEqual(self.sleep_row(self.overview()).assigned, 1)
        self.assign(PatientFactory(clinic=self.riverside), self.sleep)
        self.assertEqual(self.sleep_row(self.overview()).assigned, 1)  # as of the first view
        ClinicFigures.objects.update(as_of=timezone.now() - settings.FIGURES_MAX_AGE - datetime.timedelta(1))
        self.assertEqual(self.sleep_row(self.overview()).assigned, 2)

    def test_the_periodic_task_summarises_every_clinic(self):
        self.assertEqual(tasks.summarise_clinics(), {"clinics": 2})
        hillside = ClinicFigures.objects.get(clinic=self.hillside)
        self.assertEqual(hillside.modules, {str(self.driving.pk): [1, 0]})


class ExportTests(VisitSummaryTestCase):
    def rows(self, response):
        return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    def test_the_csv_has_headers_and_a_row_per_assignment_of_the_clinic(self):
        response = self.client.get(reverse("portal:export_assignments"))
        self.assertTrue(response.streaming)
        rows = self.rows(response)
        self.assertEqual(
            rows[0][:7],
            ["patient", "email", "record number", "clinic", "module", "version acknowledged", "status"],
        )
        self.assertEqual(len(rows), 3)
        sleep_row = next(row for row in rows if row[4] == self.sleep.title)
        self.assertEqual(
            (sleep_row[0], sleep_row[5], sleep_row[6], sleep_row[10], sleep_row[11]),
            ("Pat Patient", "1", "Completed", "80", "completed"),
        )
        breathing_row = next(row for row in rows if row[4] == self.breathing.title)
        self.assertEqual((breathing_row[6], breathing_row[11]), ("Not started", "new"))

    def test_times_are_in_the_clinics_zone_to_the_minute_with_an_iso_column_beside(self):
        summer = datetime.datetime(2026, 7, 1, 11, 30, 15, 123456, tzinfo=datetime.UTC)
        self.not_started.__class__.objects.filter(pk=self.not_started.pk).update(assigned_at=summer)
        rows = self.rows(self.client.get(reverse("portal:export_assignments")))
        row = next(row for row in rows if row[4] == self.breathing.title)
        # London is on summer time in July: 12:30 there, seconds and microseconds dropped.
        self.assertEqual((row[7], row[12]), ("2026-07-01 12:30", "2026-07-01T11:30:15.123456+00:00"))

    def test_another_clinics_assignments_are_not_exported(self):
        rows = self.rows(self.client.get(reverse("portal:export_assignments")))
        self.assertNotIn("Olive Other", [row[0] for row in rows])

    def test_a_name_that_looks_like_a_formula_is_made_inert(self):
        sneaky = PatientFactory(full_name="=HYPERLINK(1)", clinic=self.riverside)
        self.assign(sneaky, self.sleep)
        rows = self.rows(self.client.get(reverse("portal:export_assignments")))
        self.assertIn("'=HYPERLINK(1)", [row[0] for row in rows])

    def test_a_patient_gets_a_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.client.get(reverse("portal:export_assignments")).status_code, 404)

    def test_the_file_name_carries_no_patient_information(self):
        response = self.client.get(reverse("portal:export_assignments"))
        self.assertRegex(
            response["Content-Disposition"], r'attachment; filename="assignments-\d{4}-\d{2}-\d{2}.csv"'
        )
        self.assertEqual(timezone.localdate().isoformat() in response["Content-Disposition"], True)


class SpanishAttemptSummaryTests(EducationTestCase):
    def test_a_spanish_patients_missed_question_shows_as_asked_with_the_english_beside_it(self):
        self.pat.language = "es"
        self.pat.save(update_fields=["language", "updated_at"])
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=4, positions=ONE_PER_CONCEPT))
        self.sign_in(self.alice)
        visit = VisitFactory(patient=self.pat, clinician=self.alice, in_days=3, assignments=[self.assignment])
        response = self.client.get(reverse("portal:visit_summary", args=[visit.code]))
        missed = self.sleep.current_version.questions.get(position=9)
        chosen = missed.choices.filter(is_correct=False).order_by("position").first()
        self.assertContains(
            response,
            f'Asked in Spanish: “<span lang="es">{escape(missed.text_in("es"))}</span>” Chose ',
        )
        self.assertContains(response, f"In English: “{escape(missed.text)}” Chose: “{escape(chosen.text)}”")
        self.assertContains(response, "Shown (4)")
        self.assertContains(response, "Passed on attempt 1 of 1.")  # 4 of 5 meets the pass mark of 80
        self.assertContains(response, "Not asked yet:")

    def test_before_a_pass_it_counts_the_attempts(self):
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=1, positions=ONE_PER_CONCEPT))
        self.client.post(self.url("quiz"), self.answers(right=2, positions=ONE_PER_CONCEPT))
        self.sign_in(self.alice)
        response = self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))
        self.assertContains(response, "Not passed yet after 2 attempts.")
        self.assertContains(response, "Asked: “")
