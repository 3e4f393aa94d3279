"""`ringway serve` with a case store it cannot use: one line on stderr, exit code 2 (not a
traceback, and not a service that would answer 250 to mail it cannot keep)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from mail_testkit import CONFIG


def serve(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "centre.yaml"
    config.write_text(CONFIG.format(data_dir=tmp_path, relay_port=2))
    command = [
        sys.executable,
        "-m",
        "ringway.cli",
        "serve",
        "--config",
        str(config),
        "--no-sip",
        "--http-port",
        "0",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a database, just some bytes " * 200)


def directory(path: Path) -> None:
    path.mkdir()


def newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('version', '99')")


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (corrupt, "file is not a database"),
        (directory, "unable to open database file"),
        (newer_schema, "schema version 99"),
    ],
)
def test_an_unusable_case_store_is_one_line_and_exit_2(
    tmp_path: Path, spoil: object, says: str
) -> None:
    store = tmp_path / "mail.sqlite3"
    assert callable(spoil)
    spoil(store)
    result = serve(tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: mail case store {store}: ")
    assert says in lines[0]
