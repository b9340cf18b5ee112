import datetime
import math

from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from education import progress as patient_progress
from education import services
from education.models import Assignment, Module, PatientProgress, QuizAttempt
from portal import selectors
from portal.templatetags import dashboard as dashboard_tags
from tests.education.base import EducationTestCase, publish_edit
from tests.education.test_versions import CHANGE
from tests.factories import PatientFactory, VisitFactory


class DashboardTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def dashboard(self, **params):
        return self.client.get(reverse("portal:dashboard"), params)

    def names(self, response):
        return [patient.full_name for patient in response.context["page"].object_list]

    def test_it_shows_completed_of_assigned_overdue_latest_quiz_and_next_visit(self):
        self.assign(self.pat, self.driving, due_date=datetime.date(2020, 1, 1))
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=3))
        VisitFactory(patient=self.pat, clinician=self.alice, in_days=3)
        self.sign_in(self.alice)
        pat = next(p for p in self.dashboard().context["page"].object_list if p.pk == self.pat.pk)
        self.assertEqual((pat.completed_count, pat.assigned_count, pat.overdue_count), (0, 2, 1))
        self.assertEqual((pat.latest_score, pat.latest_passed), (60, False))
        self.assertIsNotNone(pat.last_activity)
        self.assertIsNotNone(pat.next_visit)

    def test_the_latest_quiz_names_its_module_and_the_next_due_date_has_its_column(self):
        self.assign(self.pat, self.driving, due_date=datetime.date(2030, 5, 6))
        self.sign_in(self.pat)
        self.client.post(self.url("quiz"), self.answers(right=3))
        self.sign_in(self.alice)
        response = self.dashboard()
        pat = next(p for p in response.context["page"].object_list if p.pk == self.pat.pk)
        self.assertEqual(pat.latest_module_title, self.sleep.title)
        earliest = min(Assignment.objects.filter(patient=self.pat).values_list("due_date", flat=True))
        self.assertEqual(pat.next_due, earliest)
        self.assertContains(response, '<th scope="col">Next due</th>', html=True)
        self.assertContains(response, f"{earliest.day} {earliest:%b %Y}")
        self.assertContains(
            response, f'60% not passed<div class="small text-body-secondary">{self.sleep.title}</div>'
        )
        # "Next due date" is the sort the page opens with.
        self.assertEqual(response.context["filters"].fields["sort"].choices[0], ("due", "Next due date"))

    def test_it_shows_only_the_clinicians_clinics(self):
        self.assertEqual(self.names(self.dashboard()), ["Pat Patient"])

    def test_search_is_posted_so_no_name_lands_in_the_url(self):
        PatientFactory(full_name="Quinn Rossi", clinic=self.riverside)
        response = self.client.post(reverse("portal:dashboard_search"), {"q": "ross"})
        self.assertRedirects(response, reverse("portal:dashboard"))
        self.assertEqual(self.names(self.dashboard()), ["Quinn Rossi"])

    def test_search_matches_email_too_and_can_be_cleared(self):
        self.client.post(reverse("portal:dashboard_search"), {"q": "pat@example"})
        self.assertEqual(self.names(self.dashboard()), ["Pat Patient"])
        self.client.post(reverse("portal:dashboard_search"), {"q": ""})
        self.assertEqual(len(self.names(self.dashboard())), 1)

    def test_an_overlong_search_is_refused(self):
        response = self.client.post(reverse("portal:dashboard_search"), {"q": "x" * 101}, follow=True)
        self.assertContains(response, "at most 100 characters")

    def test_filters_by_status(self):
        started = PatientFactory(full_name="Sam Started", clinic=self.riverside)
        done = PatientFactory(full_name="Dana Done", clinic=self.riverside)
        late = PatientFactory(full_name="Lee Late", clinic=self.riverside)
        Assignment.objects.filter(pk=self.assign(started, self.sleep).pk).update(opened_at=timezone.now())
        Assignment.objects.filter(pk=self.assign(done, self.sleep).pk).update(completed_at=timezone.now())
        self.assign(late, self.sleep, due_date=datetime.date(2020, 1, 1))
        patient_progress.refresh([started.pk, done.pk])  # written around the services above
        # Lee has not opened the overdue module either: both lists are right.
        self.assertEqual(self.names(self.dashboard(status="not_started")), ["Lee Late", "Pat Patient"])
        self.assertEqual(self.names(self.dashboard(status="in_progress")), ["Sam Started"])
        self.assertEqual(self.names(self.dashboard(status="completed")), ["Dana Done"])
        self.assertEqual(self.names(self.dashboard(status="overdue")), ["Lee Late"])

    def test_filters_patients_with_a_visit_in_the_next_seven_days(self):
        later = PatientFactory(full_name="Val Later", clinic=self.riverside)
        for patient, days in ((self.pat, 2), (later, 20)):
            VisitFactory(patient=patient, clinician=self.alice, in_days=days)
        self.assertEqual(self.names(self.dashboard(status="visit_soon")), ["Pat Patient"])

    def test_sorts_by_due_date_and_by_last_activity(self):
        soon = PatientFactory(full_name="Zed Soon", clinic=self.riverside)
        self.assign(soon, self.driving, due_date=timezone.localdate())
        self.assertEqual(self.names(self.dashboard(sort="due"))[:2], ["Zed Soon", "Pat Patient"])
        services.mark_opened(assignment=self.assignment)
        self.assertEqual(self.names(self.dashboard(sort="activity"))[0], "Pat Patient")

    def test_an_unknown_filter_shows_a_message_and_all_patients(self):
        response = self.dashboard(status="everything")
        self.assertContains(response, "That filter is not available")
        self.assertEqual(self.names(response), ["Pat Patient"])

    def test_a_page_costs_the_same_queries_for_20_patients_as_for_10000(self):
        # 1 session, 2 user, 3 the clinician's clinics with how many patients each has (the
        # paginator's count), 4 the page's ids in index order, 5 those patients with their
        # progress rows and the figures of the day, 6 the modules' versions (the key of the
        # bulk-assign form's cached markup), 7 one insert of the audit rows for the patients
        self.add_patients(19)
        self.dashboard()  # caches the bulk-assign form's markup
        with self.assertNumQueries(7):
            self.assertEqual(len(self.dashboard().context["page"].object_list), 20)
        self.add_patients(10_000 - 20)
        with self.assertNumQueries(7):
            response = self.dashboard(sort="activity", page=150)
        self.assertEqual(response.context["page"].paginator.count, 10_000)
        self.assertEqual(len(response.context["page"].object_list), 50)

    def test_a_page_past_the_last_shows_the_last_and_one_not_a_number_the_first(self):
        self.add_patients(60)  # with Pat: 61 patients, two pages
        last = self.dashboard(sort="name", page=9).context["page"]
        self.assertEqual((last.number, last.paginator.num_pages, last.paginator.count), (2, 2, 61))
        self.assertEqual(len(last.object_list), 11)
        first = self.dashboard(sort="name", page="abc").context["page"]
        self.assertEqual((first.number, len(first.object_list)), (1, 50))
        # The two pages together list every patient once.
        pages = [self.dashboard(sort="name", page=n).context["page"].object_list for n in (1, 2)]
        self.assertEqual(len({row.pk for page in pages for row in page}), 61)

    def test_pages_past_the_middle_list_the_same_patients_as_reading_from_the_start(self):
        self.add_patients(130)  # with Pat: 131 patients, three pages, the last read backwards
        services.mark_opened(assignment=self.assignment)
        for sort in ("due", "activity", "name"):
            with self.subTest(sort=sort):
                listed = [
                    [row.pk for row in self.dashboard(sort=sort, page=n).context["page"].object_list]
                    for n in (1, 2, 3)
                ]
                everyone = list(
                    PatientProgress.objects.filter(clinic=self.riverside)
                    .order_by(*selectors.ORDERINGS[sort])
                    .values_list("patient", flat=True)
                )
                self.assertEqual([pk for page in listed for pk in page], everyone)
                self.assertEqual(len(listed[2]), 31)

    def add_patients(self, count):
        start = User.objects.count()
        patients = User.objects.bulk_create(
            PatientFactory.build(email=f"many{start + n}@example.org", clinic=self.riverside, password="!")
            for n in range(count)
        )
        Assignment.objects.bulk_create(
            Assignment(patient=patient, module=self.sleep, assigned_by=self.alice, due_date=self.in_a_week)
            for patient in patients
        )
        patient_progress.refresh([patient.pk for patient in patients])  # bulk, around the services

    def test_a_patient_gets_a_404(self):
        self.sign_in(self.pat)
        self.assertEqual(self.dashboard().status_code, 404)

    def test_dates_on_the_rows_read_as_the_date_filter_writes_them(self):
        for moment in (
            datetime.datetime(2026, 1, 5, 23, 30, tzinfo=datetime.UTC),
            datetime.datetime(2026, 12, 31, 0, 5, tzinfo=datetime.UTC),
        ):
            with timezone.override("America/Los_Angeles"):
                shown = Template('{{ m|date:"j M Y" }}|{{ m|date:"j M Y, H:i" }}').render(
                    Context({"m": moment})
                )
                dates = dashboard_tags.Dates()
                self.assertEqual(f"{dates.day(moment)}|{dates.day_and_time(moment)}", shown)

    def test_a_name_is_escaped_on_its_row(self):
        PatientFactory(full_name='Zoe <b>"Bold"</b>', clinic=self.riverside)
        response = self.dashboard(sort="name")
        self.assertContains(response, "Zoe &lt;b&gt;&quot;Bold&quot;&lt;/b&gt;")
        self.assertNotContains(response, "<b>")

    def test_the_cached_bulk_form_shows_a_newly_approved_module_and_todays_default_date(self):
        before = self.dashboard().context["bulk_form_key"]
        publish_edit("sleep-medicines", *CHANGE)
        response = self.dashboard()
        self.assertNotEqual(response.context["bulk_form_key"], before)  # drawn again, not reused
        self.assertContains(response, f'value="{timezone.localdate() + datetime.timedelta(days=14)}"')


class BulkAssignTests(EducationTestCase):
    def setUp(self):
        self.sign_in(self.alice)

    def many_patients(self, count):
        patients = User.objects.bulk_create(
            PatientFactory.build(email=f"many{n}@example.org", clinic=self.riverside, password="!")
            for n in range(count)
        )
        patient_progress.start(patients)  # as invite_patient does
        return patients

    def bulk(self, patients, **overrides):
        data = {"patients": [p.code for p in patients], "module_set": "starting", "due_date": self.in_a_week}
        return self.client.post(reverse("portal:bulk_assign"), data | overrides, follow=True)

    def test_it_assigns_a_named_set_and_reports_skipped_open_assignments(self):
        other = PatientFactory(clinic=self.riverside)
        response = self.bulk([self.pat, other])
        in_the_set = len(services.MODULE_SETS["starting"].slugs)
        self.assertEqual(Assignment.objects.filter(patient__in=[self.pat, other]).count(), 2 * in_the_set)
        self.assertContains(response, f"Assigned {2 * in_the_set - 1} modules to 2 patients")
        self.assertContains(response, "Skipped 1 already open")

    def test_a_forged_patient_from_another_clinic_refuses_the_whole_request(self):
        response = self.bulk([self.pat, self.olive])
        self.assertContains(response, "Some selected patients are not in your clinics. Nothing was assigned.")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_an_invalid_code_is_refused(self):
        response = self.client.post(
            reverse("portal:bulk_assign"),
            {"patients": ["not-a-code"], "module_set": "starting", "due_date": self.in_a_week},
            follow=True,
        )
        self.assertContains(response, "The selection is not valid")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_an_empty_selection_is_refused(self):
        response = self.bulk([])
        self.assertContains(response, "Select at least one patient")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_no_module_is_refused(self):
        response = self.bulk([self.pat], module_set="")
        self.assertContains(response, "Choose at least one module or a set of modules")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_a_due_date_in_the_past_is_refused(self):
        response = self.bulk([self.pat], due_date=datetime.date(2020, 1, 1))
        self.assertContains(response, "The due date cannot be in the past")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_it_needs_a_post(self):
        self.assertEqual(self.client.get(reverse("portal:bulk_assign")).status_code, 405)

    def test_1000_ticked_patients_are_assigned_through_the_page(self):
        patients = self.many_patients(1000)
        response = self.bulk(patients, module_set="", modules=[self.sleep.pk, self.driving.pk])
        self.assertContains(response, "Assigned 2,000 modules to 1,000 patients")

    def test_all_patients_matching_the_filter_and_search_on_every_page(self):
        overdue = [PatientFactory(full_name=f"Lee Late {n}", clinic=self.riverside) for n in range(60)]
        for patient in overdue:
            self.assign(patient, self.sleep, due_date=datetime.date(2020, 1, 1))
        PatientFactory(full_name="Lee Early", clinic=self.riverside)  # matches the search, not the filter
        self.client.post(reverse("portal:dashboard_search"), {"q": "lee"})
        page = self.client.get(reverse("portal:dashboard"), {"status": "overdue"})
        self.assertContains(page, "Select all 60 patients matching this search and filter, on every page")
        response = self.bulk(
            [], all_matching="on", status="overdue", module_set="", modules=[self.driving.pk]
        )
        self.assertContains(response, "Assigned 60 modules to 60 patients")
        self.assertEqual(Assignment.objects.filter(module=self.driving, patient__in=overdue).count(), 60)
        self.assertEqual(response.redirect_chain[-1][0], f"{reverse('portal:dashboard')}?status=overdue")

    def test_all_matching_never_reaches_another_clinics_patients(self):
        everyday = Module.objects.get(slug="everyday-safety")
        self.bulk([], all_matching="on", status="", module_set="", modules=[everyday.pk])
        self.assertFalse(Assignment.objects.filter(patient=self.olive, module=everyday).exists())
        self.assertTrue(Assignment.objects.filter(patient=self.pat, module=everyday).exists())

    def test_ticked_patients_with_a_forged_one_refuse_the_whole_request_even_among_1000(self):
        patients = self.many_patients(999)
        response = self.bulk([*patients, self.olive])
        self.assertContains(response, "Some selected patients are not in your clinics. Nothing was assigned.")
        self.assertEqual(Assignment.objects.count(), 2)

    def test_an_unknown_filter_with_all_matching_is_refused(self):
        response = self.bulk([], all_matching="on", status="everyone-everywhere")
        self.assertContains(response, "Select a valid choice")
        self.assertEqual(Assignment.objects.count(), 2)


class BulkAssignQueryCountTests(EducationTestCase):
    def test_1000_patients_by_4_modules_take_a_fixed_number_of_queries(self):
        modules = list(Module.objects.all()[:4])
        small = User.objects.bulk_create(PatientFactory.build_batch(10, clinic=self.riverside, password="!"))
        large = User.objects.bulk_create(
            PatientFactory.build(email=f"bulk{n}@example.org", clinic=self.riverside, password="!")
            for n in range(1000)
        )
        patient_progress.refresh([patient.pk for patient in small + large])  # as invite_patient does

        def other_queries(patients):
            with CaptureQueriesContext(connection) as queries:
                result = services.assign_modules(
                    patients=patients, modules=modules, assigned_by=self.alice, due_date=self.in_a_week
                )
            inserts = [q for q in queries if q["sql"].startswith("INSERT")]
            return len(queries) - len(inserts), len(inserts), len(result.created)

        small_other, _, small_created = other_queries(small)
        large_other, large_inserts, large_created = other_queries(large)
        self.assertEqual((small_created, large_created), (40, 4000))
        # Membership check, existing open pairs, savepoints: the same at 10 and 1,000 patients.
        self.assertEqual(large_other, small_other)
        # PostgreSQL: one INSERT of every pair (two arrays). SQLite: batches of 1,000 rows, or
        # fewer where the database caps parameters.
        fields = [f for f in Assignment._meta.concrete_fields if not f.primary_key]
        batch = min(services.BULK_BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * 4000))
        expected = 1 if connection.vendor == "postgresql" else math.ceil(4000 / batch)
        self.assertEqual(large_inserts, expected)
        self.assertEqual(QuizAttempt.objects.count(), 0)
