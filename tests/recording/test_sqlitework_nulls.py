"""`NullInliningInserts`: a row's None values written as NULL in the statement store
what binding them stored: every row in once, in order, whatever the mix of shapes, and
only the other values are bound."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from ringway.sqlitework import NullInliningInserts

HEAD = "INSERT OR REPLACE INTO t (k, a, b, c) VALUES "


def table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b REAL, c TEXT)")
    return conn


def rows_of(count: int) -> list[tuple[Any, ...]]:
    """Shapes that change every few rows, runs of one shape, and a key written twice."""
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        a = None if n % 3 == 0 else f"a{n}"
        b = None if n % 5 < 2 else n / 7
        c = None if n % 11 == 0 else "c"
        rows.append((n % 40, a, b, c))  # past 40 rows, later rows replace earlier ones
    return rows


@pytest.mark.parametrize("count", [0, 1, 2, 7, 33, 64, 100])
def test_the_table_is_what_bound_nones_give(count: int) -> None:
    rows = rows_of(count)
    inlined, bound = table(), table()
    NullInliningInserts(HEAD, 4, (32, 8, 2)).insert(inlined, rows)
    bound.executemany(HEAD + "(?,?,?,?)", rows)
    query = "SELECT k, a, b, c, typeof(a), typeof(b), typeof(c) FROM t ORDER BY k"
    assert inlined.execute(query).fetchall() == bound.execute(query).fetchall()


def test_nones_are_not_bound() -> None:
    inserts = NullInliningInserts(HEAD, 4, (32, 8, 2))
    statements = inserts.statements((False, True, False, True))
    assert statements[1] == HEAD + "(?,NULL,?,NULL)"
    assert statements[2] == HEAD + "(?,NULL,?,NULL),(?,NULL,?,NULL)"
    executed: list[tuple[str, list[Any]]] = []

    class Recording(sqlite3.Connection):  # a connection: the compiled module checks it
        def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
            executed.append((sql, params))
            return self.cursor()

    rows = [(1, None, 1.5, None), (2, None, 2.5, None), (3, "x", None, None)]
    inserts.insert(Recording(":memory:"), rows)
    assert executed == [
        (HEAD + "(?,NULL,?,NULL),(?,NULL,?,NULL)", [1, 1.5, 2, 2.5]),
        (HEAD + "(?,?,NULL,NULL)", [3, "x"]),
    ]


def test_sizes_past_the_old_parameter_limit_are_left_out() -> None:
    inserts = NullInliningInserts("INSERT INTO t VALUES ", 100, (16, 8, 4))
    assert list(inserts.statements((False,) * 100)) == [8, 4, 1]  # 16 rows: 1,600
    assert list(inserts.statements((True,) * 50 + (False,) * 50)) == [16, 8, 4, 1]


@pytest.mark.parametrize(
    "row",
    [(), (None,), (1,), (None, 1, None), (1, None, "", 0, None), tuple([None] * 70), (0.0, False)],
)
def test_a_rows_null_mask_is_its_null_shape(row: tuple[Any, ...]) -> None:
    from ringway.sqlitework import _mask_of, _null_mask, _null_shape

    assert _null_mask(row) == _mask_of(_null_shape(row))
    assert [_null_mask(row) >> i & 1 == 1 for i in range(len(row))] == list(_null_shape(row))
