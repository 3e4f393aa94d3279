"""`ringway dialer` through a real subprocess: the exact JSON contract and exit code 2."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crm.demo import seed
from crm.sqlite import SQLiteCustomerStore

CHECK_NAMES = [
    "number",
    "dnc.internal",
    "dnc.registry.us-national",
    "consent",
    "window",
    "caps.lifetime",
    "caps.rolling_24h",
]


def ringway(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringway.cli", "dialer", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_json(cwd: Path, *args: str) -> dict[str, Any]:
    done = ringway(cwd, "check", *args, "--json")
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    assert done.stdout.count("\n") == 1  # one JSON document, nothing else on stdout
    return document


def test_check_prints_exactly_allowed_and_every_reason(tmp_path: Path) -> None:
    # Pensacola (America/Chicago), Florida: 19:30 CST allowed, 20:30 CST refused (Florida 20:00).
    ok = check_json(tmp_path, "+1 850 434 0000", "--at", "2026-01-15T01:30:00Z")
    assert set(ok) == {"allowed", "reasons"} and ok["allowed"] is True
    assert [r["check"] for r in ok["reasons"]] == CHECK_NAMES
    for reason in ok["reasons"]:
        assert set(reason) == {"check", "result", "detail", "data"}
        assert reason["result"] in {"pass", "fail", "warn"}
    window = next(r for r in ok["reasons"] if r["check"] == "window")
    assert window["data"]["local_times"] == {"America/Chicago": "2026-01-14T19:30:00-06:00"}
    late = check_json(tmp_path, "+18504340000", "--at", "2026-01-15T02:30:00Z")
    assert late["allowed"] is False
    failed = [r["check"] for r in late["reasons"] if r["result"] == "fail"]
    assert failed == ["window"]
    assert not (tmp_path / "var").exists()  # a check only reads: no database created


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not a number", "--at", "2026-01-15T01:30:00Z"], "is not a phone number"),
        (["+1555", "--at", "2026-01-15T01:30:00Z"], "wrong length"),
        (["+18504340000", "--at", "tomorrow"], "is not an ISO-8601 time"),
        (["+18504340000", "--at", "2026-01-15T01:30:00"], "has no UTC offset"),
        (
            ["+18504340000", "--at", "2026-01-15T01:30:00Z", "--campaign", "ghost"],
            "unknown campaign",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = ringway(tmp_path, "check", *args, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_dnc_add_is_seen_by_the_next_check_in_another_process(tmp_path: Path) -> None:
    db = str(tmp_path / "dialer.sqlite3")
    at = ["--at", "2026-01-15T18:00:00Z", "--db", db]
    assert ringway(tmp_path, "dnc", "add", "+13125550182", "--db", db).returncode == 0
    assert check_json(tmp_path, "+12125550100", *at)["allowed"] is True
    added = ringway(tmp_path, "dnc", "add", "(212) 555-0100", "--db", db, "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["number"] == "+12125550100"
    after = check_json(tmp_path, "+12125550100", *at)
    assert after["allowed"] is False
    assert [r["check"] for r in after["reasons"] if r["result"] == "fail"] == ["dnc.internal"]


def test_dnc_registry_import_warns_when_old(tmp_path: Path) -> None:
    db = str(tmp_path / "dialer.sqlite3")
    registry = tmp_path / "ftc.txt"
    registry.write_text("212,5550100\n3125550182\nbogus\n")
    done = ringway(
        tmp_path, "dnc", "import", str(registry), "--as-of", "2020-01-01", "--db", db, "--json"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["numbers"] == 2 and report["version"] == 1
    assert report["rejected"] == [
        {"line": 3, "text": "bogus", "reason": "'bogus' is not a phone number (The string "
         "supplied did not seem to be a phone number.)"}
    ]  # fmt: skip
    assert done.stderr.startswith("warning: registry data dated 2020-01-01")
    verdict = check_json(tmp_path, "+13125550182", "--at", "2026-01-15T18:00:00Z", "--db", db)
    assert verdict["allowed"] is False
    registry_reason = next(r for r in verdict["reasons"] if r["check"].startswith("dnc.registry"))
    assert registry_reason["result"] == "fail" and registry_reason["data"]["as_of"] == "2020-01-01"


def test_import_csv_prints_the_row_report(tmp_path: Path) -> None:
    campaigns = tmp_path / "campaigns"
    campaigns.mkdir()
    (campaigns / "spring.yaml").write_text(
        'name: spring\ncaller_id: "+12125550100"\nrequired_fields: [name]\n'
    )
    leads = tmp_path / "leads.csv"
    leads.write_text("phone,name\n2125550100,Ann\n2125550100,Ann again\nxyz,Bad\n3125550182,\n")
    db = str(tmp_path / "dialer.sqlite3")
    done = ringway(tmp_path, "import", str(leads), "--campaign", "spring", "--db", db, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == 4 and report["accepted"] == 1
    assert [(r["line"], r["reason"]) for r in report["rejected"]] == [
        (3, "duplicate of line 2 (+12125550100)"),
        (4, "'xyz' is not a phone number (The string supplied did not seem to be a phone number.)"),
        (5, "missing name"),
    ]
    human = ringway(tmp_path, "import", str(leads), "--campaign", "spring", "--db", db)
    assert human.returncode == 0
    assert f"{leads}:2: +12125550100 is already in the campaign" in human.stdout


def test_campaign_file_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: x\ncaller_id: "+12125550100"\nmode: blaster\n')
    done = ringway(
        tmp_path, "check", "+12125550100", "--at", "2026-01-15T18:00:00Z", "--campaign", str(bad)
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {bad}:3: mode: Input should be 'preview', 'progressive' or 'predictive'"
    )


def test_check_reads_consent_from_the_customer_database(tmp_path: Path) -> None:
    crm = tmp_path / "customers.sqlite3"

    async def make() -> None:
        store = await SQLiteCustomerStore.open(crm)
        await seed(store)
        await store.close()

    asyncio.run(make())
    verdict = check_json(
        tmp_path, "+13125550182", "--at", "2026-01-15T18:00:00Z", "--crm", str(crm)
    )
    consent = next(r for r in verdict["reasons"] if r["check"] == "consent")
    assert verdict["allowed"] is False and consent["result"] == "fail"
    assert consent["data"]["holders"][0]["customer"] == "cust-1006"


@pytest.mark.parametrize("module", ["dialer.cli", "dialer.compliance", "dialer.campaign"])
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
