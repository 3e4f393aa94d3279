"""`multirow_inserts` and `insert_rows`, shared by the CDR store and the event log: every
row in, in order, whatever the batch's size, and no statement past 999 parameters."""

from __future__ import annotations

import sqlite3

import pytest

from ringway.sqlitework import insert_rows, multirow_inserts


def test_sizes_past_the_old_parameter_limit_are_left_out_and_one_is_kept() -> None:
    statements = multirow_inserts("INSERT INTO t VALUES ", 100, (16, 8, 4))
    assert list(statements) == [8, 4, 1]  # 16 rows would be 1,600 parameters
    assert statements[1] == "INSERT INTO t VALUES (" + ",".join(["?"] * 100) + ")"
    assert all(statement.count("?") == size * 100 for size, statement in statements.items())


@pytest.mark.parametrize("count", [0, 1, 7, 8, 9, 63, 64, 65, 200])
def test_every_row_goes_in_once_in_order(count: int) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (n INTEGER, label TEXT)")
    rows = [(n, f"row {n}") for n in range(count)]
    insert_rows(conn, multirow_inserts("INSERT INTO t VALUES ", 2, (64, 8, 2)), rows)
    assert conn.execute("SELECT n, label FROM t ORDER BY rowid").fetchall() == rows
