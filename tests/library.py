"""The module library as a clinic has it once its editors signed off: loaded and approved."""

from django.contrib.auth.models import Group

from accounts.models import CONTENT_EDITORS_GROUP, User
from education import services
from education.content import CONTENT_DIR
from tests.factories import ClinicianFactory

TEST_REVIEWER = "Test reviewer (not a clinical review)"


def library_editor() -> User:
    """A content editor who signs off the library in tests."""
    editor = User.objects.filter(email="library-editor@example.org").first()
    if editor is None:
        editor = ClinicianFactory(email="library-editor@example.org", full_name="Libby Editor", is_staff=True)
        # get_or_create: browser tests flush the tables, the migration-made group with them.
        editor.groups.add(Group.objects.get_or_create(name=CONTENT_EDITORS_GROUP)[0])
    return editor


def load_and_approve(content_dir=CONTENT_DIR):
    """Load the files as drafts and approve the newest draft of each module."""
    report = services.load_library(content_dir)
    services.approve_all_drafts(editor=library_editor(), reviewer_name=TEST_REVIEWER, credential="none")
    return report
