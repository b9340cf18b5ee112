"""The patient's page costs the same number of queries however long their history."""

from django.urls import reverse

from education import services as education_services
from education.models import Module
from portal.models import TeachBack
from tests.education.base import EducationTestCase
from tests.factories import VisitFactory


class PatientPageQueryCountTests(EducationTestCase):
    def page(self):
        return self.client.get(reverse("portal:patient_detail", args=[self.pat.code]))

    def add_history(self):
        """Every module assigned, a quiz attempt and a question on each, a visit with
        teach-back for each, and an invitation resent."""
        for module in Module.objects.exclude(pk=self.sleep.pk):
            assignment = self.assign(self.pat, module)
            self.sign_in(self.pat)
            self.client.post(self.url("quiz", assignment), self.answers(assignment, right=1))
            education_services.ask_question(assignment=assignment, section="", text="What if I miss one?")
            visit = VisitFactory(patient=self.pat, clinician=self.alice, in_days=3, assignments=[assignment])
            TeachBack.objects.create(
                visit=visit, assignment=assignment, outcome="explained", recorded_by=self.alice
            )
        self.sign_in(self.alice)

    def test_the_page_costs_the_same_with_a_long_history(self):
        self.sign_in(self.alice)
        self.page()
        # 1 session, 2 user, 3 the patient with clinic and the clinician's role there, 4 the
        # patient's questions for visits, 5 the audit row, 6 visits with their teach-back,
        # 7 assignments with module, version and people, 8 quiz attempts, 9 acknowledgments,
        # 10 the clinic's clinicians (visit form), 11 the module library (assign form)
        with self.assertNumQueries(11):
            self.page()
        self.add_history()
        self.page()
        # The same, and 12: the answers of the attempts, as the patient saw them.
        with self.assertNumQueries(12):
            response = self.page()
        self.assertEqual(len(response.context["records"]), Module.objects.count())
        self.assertEqual(len(response.context["visits"]), Module.objects.count() - 1)
        self.assertTrue(all(record.teach_back for record in response.context["records"][:-1]))

    def test_a_patient_not_signed_up_yet_costs_the_invitation_instead(self):
        self.pat.set_unusable_password()
        self.pat.save(update_fields=["password"])
        self.sign_in(self.alice)
        self.page()
        # As above, and the patient's latest invitation; no attempts without signing in.
        with self.assertNumQueries(12):
            response = self.page()
        self.assertContains(response, "Not invited yet")
