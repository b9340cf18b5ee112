"""Write statements that Django compiles once per process and then runs with each call's values.

For a statement run on every quiz answer whose SQL never changes shape, compiling it took
Django longer than the database took to run it (cProfile of a quiz answer: the progress
refresh's dozen subqueries were 24 of 62 ms, most of it compiling). The statement is built
with the ORM as usual, with a sentinel standing for each value that changes per call; the
compiled SQL is kept, and each call puts its values where the sentinels were.
"""

import datetime
from dataclasses import dataclass

from django.db import connections
from django.db.models.sql.subqueries import UpdateQuery


@dataclass(frozen=True)
class CompiledUpdate:
    alias: str
    sql: str
    params: tuple
    slots: dict[str, tuple[int, ...]]

    @classmethod
    def of(cls, queryset, values: dict, alias: str, **sentinels) -> "CompiledUpdate":
        """`queryset.update(**values)` as SQL, with each sentinel's positions among the
        parameters recorded under its name. A sentinel must appear, and must be a value
        nothing else in the statement uses."""
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        query.annotations = {}
        compiler = query.get_compiler(alias)
        compiler.pre_sql_setup()
        sql, params = compiler.as_sql()
        params = tuple(params)
        connection = connections[alias]
        slots = {
            name: tuple(i for i, param in enumerate(params) if _same(param, _adapted(connection, sentinel)))
            for name, sentinel in sentinels.items()
        }
        missing = [name for name, positions in slots.items() if not positions]
        if missing:
            raise ValueError(f"sentinels not in the compiled statement: {', '.join(missing)}")
        return cls(alias, sql, params, slots)

    def run(self, **values) -> int:
        """Runs the statement with `values` in place of the sentinels; the rows changed."""
        connection = connections[self.alias]
        params = list(self.params)  # a copy: the compiled tuple is shared by every call
        for name, value in values.items():
            for position in self.slots[name]:
                params[position] = _like(self.params[position], _adapted(connection, value))
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.rowcount


def _adapted(connection, value):
    """A value as the compiler puts it among the parameters: SQLite gets times as text."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _same(param, sentinel) -> bool:
    # True == 1 in Python: a boolean parameter must not pass for an integer sentinel.
    return isinstance(param, bool) == isinstance(sentinel, bool) and param == sentinel


def _like(compiled, value):
    """`value` in the compiled parameter's own type: psycopg 3 gets an integer column's
    value as Int4 (an int), so the prepared statement keeps its parameter types."""
    if isinstance(compiled, int) and not isinstance(compiled, bool) and value is not None:
        return type(compiled)(value)
    return value
