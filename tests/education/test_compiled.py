"""Statements compiled once: each call's values land where the sentinels were, nowhere else."""

from django.db import connection

from education.compiled import CompiledUpdate
from education.models import Assignment, Module
from tests.education.base import EducationTestCase


class CompiledUpdateTests(EducationTestCase):
    def test_each_call_changes_only_the_row_it_names(self):
        first = self.assignment
        second = self.assign(self.pat, Module.objects.exclude(pk=self.sleep.pk).first())
        rows = Assignment.objects.filter(pk=-1, opened_at__isnull=True)
        opened = {"opened_at": self.sleep.created_at}
        update = CompiledUpdate.of(rows, opened, connection.alias, assignment=-1)
        self.assertEqual(update.run(assignment=first.pk), 1)
        self.assertEqual(update.run(assignment=first.pk), 0)  # the condition holds per call
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(first.opened_at, self.sleep.created_at)
        self.assertIsNone(second.opened_at)

    def test_a_sentinel_the_statement_does_not_hold_is_refused_when_compiled(self):
        rows = Assignment.objects.filter(pk=-1)
        with self.assertRaisesMessage(ValueError, "sentinels not in the compiled statement: floor"):
            CompiledUpdate.of(rows, {"due_date": None}, connection.alias, assignment=-1, floor=7)

    def test_a_true_parameter_does_not_pass_for_the_integer_sentinel_one(self):
        rows = Assignment.objects.filter(pk=1, patient__is_active=True)
        update = CompiledUpdate.of(rows, {"due_date": None}, connection.alias, assignment=1)
        self.assertEqual(len(update.slots["assignment"]), 1)
