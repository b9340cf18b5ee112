from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import CONTENT_EDITORS_GROUP
from tests.education.base import EducationTestCase
from tests.factories import ClinicianFactory


class ContentEditorAdminTests(EducationTestCase):
    def setUp(self):
        editor = ClinicianFactory(is_staff=True, clinics=[self.riverside])
        editor.groups.add(Group.objects.get(name=CONTENT_EDITORS_GROUP))
        self.sign_in(editor)

    def test_an_editor_browses_modules_and_versions(self):
        self.assertContains(self.client.get(reverse("admin:education_module_changelist")), self.sleep.title)
        response = self.client.get(
            reverse("admin:education_moduleversion_change", args=[self.sleep.current_version.pk])
        )
        self.assertContains(response, "Qaseem")

    def test_a_published_version_cannot_be_changed_from_the_admin(self):
        version = self.sleep.current_version
        url = reverse("admin:education_moduleversion_change", args=[version.pk])
        self.client.post(url, {"title": "Changed"})
        version.refresh_from_db()
        self.assertEqual(version.title, self.sleep.title)
        self.assertEqual(self.client.get(reverse("admin:education_moduleversion_add")).status_code, 403)

    def test_an_editor_sees_no_patient_records_in_the_admin(self):
        self.assertEqual(self.client.get(reverse("admin:accounts_user_changelist")).status_code, 403)
