"""PreparedQuery answers exactly what SQLAlchemy's own execution answers, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import pytest
from sqlalchemy import JSON, BigInteger, Column, Float, MetaData, String, Table, bindparam, or_, select

from services.common.db import EnumText, PreparedQuery, UTCDateTime


class Colour(StrEnum):
    red = "red"
    blue = "blue"


_metadata = MetaData()
_things = Table("prepared_query_things", _metadata,
                Column("id", String(8), primary_key=True), Column("colour", EnumText(Colour)),
                Column("at", UTCDateTime()), Column("data", JSON), Column("ratio", Float),
                Column("size", BigInteger), Column("note", String(20)))


@pytest.fixture
def things(connection):  # type: ignore[no-untyped-def]
    _metadata.create_all(connection)  # inside the test's transaction: rolled back after
    connection.execute(_things.insert(), [
        {"id": "a", "colour": Colour.red, "at": datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
         "data": {"rungs": [240, 480], "名": "数学"}, "ratio": 0.25, "size": 8 * 2**30, "note": None},
        {"id": "b", "colour": Colour.blue, "at": datetime(2026, 1, 2, tzinfo=UTC), "data": [], "ratio": None,
         "size": 1, "note": "x"},
    ])
    return connection


def test_rows_and_their_types_match_sqlalchemy(things):  # type: ignore[no-untyped-def]
    statement = (select(*_things.c).where(or_(_things.c.colour == Colour.red, _things.c.id == bindparam("id")),
                                          _things.c.note.is_(None) | (_things.c.note == bindparam("id")))
                 .order_by(_things.c.id))
    expected = [tuple(r) for r in things.execute(statement, {"id": "x"})]
    rows = PreparedQuery(statement).rows(things, {"id": "x"})
    assert [tuple(r) for r in rows] == expected
    row = rows[0]
    assert row.colour is Colour.red and row.at.tzinfo is UTC and row.data["名"] == "数学" and row.size == 8 * 2**30
    # A second run uses what the first compiled, and other parameters.
    assert [r.id for r in PreparedQuery(statement).rows(things, {"id": "b"})] == ["a"]


def test_one_or_none(things):  # type: ignore[no-untyped-def]
    query = PreparedQuery(select(_things.c.id, _things.c.ratio).where(_things.c.id == bindparam("id")))
    assert query.one_or_none(things, {"id": "b"}) == ("b", None)
    assert query.one_or_none(things, {"id": "nope"}) is None


def test_in_lists_are_refused_since_they_compile_per_execution(things):  # type: ignore[no-untyped-def]
    query = PreparedQuery(select(_things.c.id).where(_things.c.colour.in_([Colour.red, Colour.blue])))
    with pytest.raises(ValueError, match="expanding"):
        query.rows(things, {})
