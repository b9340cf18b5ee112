"""Statements that Django compiles once per process and then runs with each call's values.

For a statement whose SQL never changes shape, building and compiling it took Django longer
than the database took to run it: the progress refresh's dozen subqueries were 24 of a quiz
answer's 62 ms, most of it compiling; the dashboard's row query took 6.7 ms to build, compile
and read, 1.4 of them in PostgreSQL. The statement is built with the ORM as usual, with a
sentinel standing for each value that changes per call; the compiled SQL is kept, and each
call puts its values where the sentinels were.

A sentinel must be a value nothing else in the statement uses, of the field's type and range
(Django drops a comparison it knows is always true). Today's date or the time, put in while
the statement is built, would be frozen at the first call, so compiling refuses one.
"""

import datetime
from dataclasses import dataclass

from django.db import connections
from django.db.models import Lookup
from django.db.models.query import get_related_populators
from django.db.models.sql.subqueries import UpdateQuery

# Sentinels for what most statements vary by: a record's id (no row has a negative id), the
# time and today's date (long before any record). A statement with two ids of its own picks
# other values.
AN_ID = -20261122
NOW = datetime.datetime(1901, 1, 1, tzinfo=datetime.UTC)
TODAY = datetime.date(1901, 1, 2)


class AnyOf(Lookup):
    """`field IN (ids)` with the ids as one parameter: `= ANY(%s)`, an array, on PostgreSQL.
    psycopg 3 caches and prepares statements of at most 50 parameters only: a page of 50 ids
    and the day's two values were parsed and planned again on every call (the dashboard's
    rows query: 3.1-3.5 ms, 0.4-0.5 ms as an array). SQLite, without arrays, gets one
    placeholder per id. A compiled statement takes the ids as a tuple sentinel either way.

        User.objects.filter(AnyOf(F("pk"), ids))
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", [*lhs_params, *ids]


@dataclass(frozen=True)
class _Compiled:
    alias: str
    sql: str
    params: tuple
    # name -> positions among the parameters; a tuple sentinel has one position per element.
    slots: dict[str, tuple[int, ...]]

    @staticmethod
    def _slots(alias, params, sentinels) -> dict[str, tuple[int, ...]]:
        connection = connections[alias]
        slots = {}
        for name, sentinel in sentinels.items():
            if isinstance(sentinel, tuple) and list(sentinel) in params:
                # AnyOf on PostgreSQL: the tuple is one array parameter (see _params).
                slots[name] = (params.index(list(sentinel)),)
            elif isinstance(sentinel, tuple):
                slots[name] = tuple(
                    _only_position(params, _adapted(connection, element)) for element in sentinel
                )
            else:
                slots[name] = tuple(
                    i for i, p in enumerate(params) if _same(p, _adapted(connection, sentinel))
                )
        missing = [name for name, positions in slots.items() if not positions or None in positions]
        if missing:
            raise ValueError(f"sentinels not in the compiled statement: {', '.join(missing)}")
        placed = {position for positions in slots.values() for position in positions}
        frozen = [param for i, param in enumerate(params) if i not in placed and _is_about_now(param)]
        if frozen:
            raise ValueError(f"today's date or time in the statement is not a sentinel: {frozen[0]!r}")
        return slots

    def _params(self, values) -> list:
        connection = connections[self.alias]
        params = list(self.params)  # a copy: the compiled tuple is shared by every call
        for name, value in values.items():
            if self._is_array(name):  # AnyOf on PostgreSQL: the ids as one array
                params[self.slots[name][0]] = list(value)
                continue
            elements = value if isinstance(value, tuple) else [value] * len(self.slots[name])
            if len(elements) != len(self.slots[name]):
                raise ValueError(f"{name}: {len(self.slots[name])} values expected, {len(elements)} given")
            for position, element in zip(self.slots[name], elements, strict=True):
                params[position] = _like(self.params[position], _adapted(connection, element))
        return params

    def _is_array(self, name) -> bool:
        positions = self.slots[name]
        return len(positions) == 1 and isinstance(self.params[positions[0]], list)


@dataclass(frozen=True)
class CompiledUpdate(_Compiled):
    @classmethod
    def of(cls, queryset, values: dict, alias: str, **sentinels) -> "CompiledUpdate":
        """`queryset.update(**values)` as SQL, with each sentinel's positions recorded."""
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        query.annotations = {}
        compiler = query.get_compiler(alias)
        compiler.pre_sql_setup()
        sql, params = compiler.as_sql()
        params = tuple(params)
        return cls(alias, sql, params, cls._slots(alias, params, sentinels))

    def run(self, **values) -> int:
        """Runs the statement with `values` in place of the sentinels; the rows changed."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self._params(values))
            return cursor.rowcount


def _converters(compiler) -> dict:
    """The fields' converters (to UUIDs, decimals, aware datetimes...), found once per
    statement: looking them up on every call was 1.6 of the visit summary's eight
    statements' time (cProfile)."""
    return compiler.get_converters([select[0] for select in compiler.select[: compiler.col_count]])


@dataclass(frozen=True)
class CompiledRows(_Compiled):
    compiler: object = None
    converters: dict = None

    @classmethod
    def of(cls, queryset, alias: str, **sentinels) -> "CompiledRows":
        """A `values_list()` queryset as SQL, with each sentinel's positions recorded; its
        rows come back as values_list gives them (the fields' converters applied)."""
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        params = tuple(params)
        return cls(alias, sql, params, cls._slots(alias, params, sentinels), compiler, _converters(compiler))

    def rows(self, **values) -> list[tuple]:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self._params(values))
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        return [tuple(row) for row in rows]


@dataclass(frozen=True)
class CompiledObjects(_Compiled):
    """A model queryset (select_related, only, defer and annotations included) compiled
    once; each call builds its model instances as Django's own iterable does, with what
    that iterable works out per query (converters, the related objects' populators, the
    column names) worked out once."""

    compiler: object = None
    converters: dict = None
    names: tuple = ()
    populators: tuple = ()

    @classmethod
    def of(cls, queryset, alias: str, **sentinels) -> "CompiledObjects":
        compiler = queryset.query.get_compiler(alias)
        sql, params = compiler.as_sql()
        params = tuple(params)
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        names = tuple(column[0].target.attname for column in select[start:end])
        populators = tuple(get_related_populators(klass_info, select, alias))
        slots = cls._slots(alias, params, sentinels)
        return cls(alias, sql, params, slots, compiler, _converters(compiler), names, populators)

    def objects(self, **values) -> list:
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, self._params(values))
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        compiler, alias, names = self.compiler, self.alias, list(self.names)
        klass_info = compiler.klass_info
        model, start = klass_info["model"], klass_info["select_fields"][0]
        end = start + len(names)
        annotations = compiler.annotation_col_map or {}
        found = []
        for row in rows:
            instance = model.from_db(alias, names, row[start:end])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in annotations.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found


def _adapted(connection, value):
    """A value as the compiler puts it among the parameters: SQLite gets dates as text."""
    if isinstance(value, datetime.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, datetime.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _same(param, sentinel) -> bool:
    # True == 1 in Python: a boolean parameter must not pass for an integer sentinel.
    return isinstance(param, bool) == isinstance(sentinel, bool) and param == sentinel


def _only_position(params, sentinel) -> int | None:
    positions = [i for i, param in enumerate(params) if _same(param, sentinel)]
    return positions[0] if len(positions) == 1 else None


def _is_about_now(param) -> bool:
    """Whether a parameter is a date or time within a day of now: what the ORM puts in
    for a timezone.now() or localdate() while the statement is built. Constants (a
    stand-in for "never") are further away."""
    if isinstance(param, str) and len(param) >= 10:
        try:  # SQLite's dates and times are text
            param = datetime.datetime.fromisoformat(param)
        except ValueError:
            return False
    if not isinstance(param, datetime.date):
        return False
    if not isinstance(param, datetime.datetime):
        param = datetime.datetime.combine(param, datetime.time(12))
    if param.tzinfo is None:
        param = param.replace(tzinfo=datetime.UTC)
    return abs(param - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(days=1)


def _like(compiled, value):
    """`value` in the compiled parameter's own type: psycopg 3 gets an integer column's
    value as Int4 (an int), so the prepared statement keeps its parameter types."""
    if isinstance(compiled, int) and not isinstance(compiled, bool) and value is not None:
        return type(compiled)(value)
    return value
