"""Statements compiled once: each call's values land where the sentinels were, nowhere else."""

import datetime

from django.db import connection
from django.utils import timezone

from education.compiled import CompiledObjects, CompiledRows, CompiledUpdate
from education.models import Assignment, Module
from tests.education.base import EducationTestCase

OPENED = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)


class CompiledUpdateTests(EducationTestCase):
    def test_each_call_changes_only_the_row_it_names(self):
        first = self.assignment
        second = self.assign(self.pat, Module.objects.exclude(pk=self.sleep.pk).first())
        rows = Assignment.objects.filter(pk=-1, opened_at__isnull=True)
        opened = {"opened_at": OPENED}
        update = CompiledUpdate.of(rows, opened, connection.alias, assignment=-1)
        self.assertEqual(update.run(assignment=first.pk), 1)
        self.assertEqual(update.run(assignment=first.pk), 0)  # the condition holds per call
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(first.opened_at, OPENED)
        self.assertIsNone(second.opened_at)

    def test_a_sentinel_the_statement_does_not_hold_is_refused_when_compiled(self):
        rows = Assignment.objects.filter(pk=-1)
        with self.assertRaisesMessage(ValueError, "sentinels not in the compiled statement: floor"):
            CompiledUpdate.of(rows, {"due_date": None}, connection.alias, assignment=-1, floor=7)

    def test_a_true_parameter_does_not_pass_for_the_integer_sentinel_one(self):
        rows = Assignment.objects.filter(pk=1, patient__is_active=True)
        update = CompiledUpdate.of(rows, {"due_date": None}, connection.alias, assignment=1)
        self.assertEqual(len(update.slots["assignment"]), 1)

    def test_the_time_of_the_first_call_cannot_be_frozen_into_the_statement(self):
        rows = Assignment.objects.filter(pk=-1, due_date__lt=timezone.localdate())
        with self.assertRaisesMessage(ValueError, "today's date or time in the statement is not a sentinel"):
            CompiledUpdate.of(rows, {"due_date": None}, connection.alias, assignment=-1)


class CompiledRowsTests(EducationTestCase):
    def test_rows_come_back_as_values_list_gives_them_for_each_calls_values(self):
        other = self.assign(self.pat, Module.objects.exclude(pk=self.sleep.pk).first())
        ids = (-11, -12)
        query = Assignment.objects.filter(pk__in=ids, due_date__gte=datetime.date(1901, 1, 3)).order_by("pk")
        rows = CompiledRows.of(
            query.values_list("pk", "code"), connection.alias, ids=ids, since=datetime.date(1901, 1, 3)
        )
        expected = list(
            Assignment.objects.filter(pk__in=[self.assignment.pk, other.pk])
            .order_by("pk")
            .values_list("pk", "code")
        )
        self.assertEqual(
            rows.rows(ids=(self.assignment.pk, other.pk), since=datetime.date(2000, 1, 1)), expected
        )
        self.assertEqual(
            rows.rows(ids=(self.assignment.pk, 0), since=datetime.date(2000, 1, 1)), expected[:1]
        )
        self.assertEqual(rows.rows(ids=(self.assignment.pk, other.pk), since=datetime.date(2999, 1, 1)), [])


class CompiledObjectsTests(EducationTestCase):
    def test_instances_match_the_querysets_with_related_rows_and_deferred_fields(self):
        other = self.assign(self.pat, Module.objects.exclude(pk=self.sleep.pk).first())
        query = (
            Assignment.objects.filter(patient=-11)
            .select_related("module__current_version")
            .defer("module__current_version__body_html")
            .order_by("pk")
        )
        found = CompiledObjects.of(query, connection.alias, patient=-11).objects(patient=self.pat.pk)
        self.assertEqual([a.pk for a in found], [self.assignment.pk, other.pk])
        with self.assertNumQueries(0):  # the related rows came with them
            titles = [a.module.current_version.title for a in found]
        self.assertEqual(titles, [self.sleep.current_version.title, other.module.current_version.title])
        self.assertIn("body_html", found[0].module.current_version.get_deferred_fields())
        self.assertEqual(found[0].code, self.assignment.code)
        self.assertEqual(CompiledObjects.of(query, connection.alias, patient=-11).objects(patient=-5), [])

    def test_annotations_are_set_for_each_calls_values(self):
        query = Assignment.objects.filter(patient=-11).with_status(datetime.date(1901, 1, 2)).order_by("pk")
        rows = CompiledObjects.of(query, connection.alias, patient=-11, today=datetime.date(1901, 1, 2))
        due = self.assignment.due_date
        before, after = (
            rows.objects(patient=self.pat.pk, today=day)[0] for day in (due, due.replace(year=due.year + 1))
        )
        self.assertEqual((before.status, after.status), (Assignment.Status.NEW, Assignment.Status.OVERDUE))
