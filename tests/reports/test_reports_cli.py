"""``report intervals`` against a real SQLite log filled by driving the router."""

from __future__ import annotations

import json
import random
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringway.cli_report import report_app
from ringway.eventlog import SQLiteEventLog
from ringway.reports import FIELDS
from router import events as ev
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue, ServiceLevel
from router.skills import parse

T0 = 1704103200.0  # 2024-01-01T10:00:00Z
FROM, TO = "2024-01-01T10:00:00Z", "2024-01-01T10:30:00Z"

SALES = Queue(
    name="sales",
    channel=Channel.VOICE,
    requirement=parse("sales"),
    service_level=ServiceLevel(target=0.8, threshold_s=20),
    sla_by_tier={"gold": ServiceLevel(target=0.9, threshold_s=10)},
    offer_timeout_s=60,
)
SUPPORT = Queue(name="support", channel=Channel.VOICE, requirement=parse("support"))


def drive() -> list[ev.Event]:
    """sales (offsets from 10:00): c1 answered in 5 s (handle 70), c2 in 70 s (100),
    c3 abandons at 3 s, c4 at 40 s; c5 gold queued 10:14:50, answered 10:15:20 (30 s,
    handle 80); c6 gold answered in 12 s (27). support: s1 abandons at 50 s (10:15:50)."""
    router = Router([SALES, SUPPORT], rng=random.Random(11))
    out: list[ev.Event] = []

    def at(offset: float, command: str, *args: object) -> None:
        out.extend(getattr(router, command)(*args, T0 + offset))

    def arrive(offset: float, cid: str, queue: str = "sales", tier: str | None = None) -> None:
        at(
            offset,
            "contact_arrived",
            Contact(id=cid, channel=Channel.VOICE, queue=queue, created_at=T0 + offset, tier=tier),
        )

    at(
        0,
        "add_agent",
        Agent(id="al", name="Al", skills={"sales": 2}, capacity=capacity_from({"voice": 1})),
    )
    out.extend(router.login("al", T0, ready=True))
    arrive(10, "c1")
    at(15, "accept", "al", "c1")
    arrive(20, "c2")
    arrive(30, "c3")
    at(33, "end", "c3")
    arrive(40, "c4")
    at(75, "end", "c1")
    at(80, "end", "c4")
    at(85, "complete", "al", "c1")
    at(90, "accept", "al", "c2")
    at(180, "end", "c2")
    at(190, "complete", "al", "c2")
    arrive(890, "c5", tier="gold")
    at(920, "accept", "al", "c5")
    arrive(950, "s1", "support")
    at(980, "end", "c5")
    at(1000, "complete", "al", "c5")
    at(1000, "end", "s1")
    arrive(1001, "c6", tier="gold")
    at(1013, "accept", "al", "c6")
    at(1033, "end", "c6")
    at(1040, "complete", "al", "c6")
    return out


@pytest.fixture()
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "events.sqlite3"
    with SQLiteEventLog(path) as log:
        log.append_many(drive())
    return path


@pytest.fixture()
def fake_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``ringway.config`` stand-in: the report only needs ``load_config(path).queues``."""
    seen: list[Path] = []

    def load_config(path: Path) -> types.SimpleNamespace:
        seen.append(path)
        if Path(path).name == "broken.yaml":
            raise ValueError("broken.yaml:3: queues.0.name: required")
        return types.SimpleNamespace(queues=[SALES, SUPPORT])

    module = types.ModuleType("ringway.config")
    module.load_config = load_config  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ringway.config", module)
    return tmp_path / "service.yaml"


def invoke(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(report_app, ["intervals", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def rows_of(stdout: str) -> dict[tuple[str, str], dict[str, object]]:
    document = json.loads(stdout)
    return {(r["interval_start"], r["queue"]): r for r in document["rows"]}


def test_json_with_the_queues_sla(log_path: Path, fake_config: Path) -> None:
    code, out, err = invoke(
        "--from", FROM, "--to", TO, "--events", log_path, "--config", fake_config, "--json"
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["from"], document["to"], document["interval_s"]) == (FROM, TO, 900.0)
    rows = rows_of(out)
    assert list(rows) == [
        ("2024-01-01T10:00:00Z", "sales"),
        ("2024-01-01T10:00:00Z", "support"),
        ("2024-01-01T10:15:00Z", "sales"),
        ("2024-01-01T10:15:00Z", "support"),
    ]
    first = rows["2024-01-01T10:00:00Z", "sales"]
    assert first == {
        "interval_start": "2024-01-01T10:00:00Z",
        "interval_start_epoch": T0,
        "interval_s": 900.0,
        "queue": "sales",
        "offered": 5,  # c5, queued 10:14:50 and answered 10:15:20, counts here
        "answered": 3,
        "abandoned": 2,
        "short_abandoned": 1,
        "answered_within_threshold": 1,
        "handled": 3,
        "service_level": 0.2,
        "service_level_offered": 0.2,
        "service_level_abandon_aware": 0.25,
        "asa": 35.0,
        "aht": 250 / 3,
        "avg_abandon_wait": 21.5,
    }
    late = rows["2024-01-01T10:15:00Z", "sales"]  # c6: gold, 12 s > 10 s
    assert (late["offered"], late["answered_within_threshold"], late["service_level"]) == (
        1,
        0,
        0.0,
    )
    assert (late["asa"], late["aht"]) == (12.0, 27.0)
    support = rows["2024-01-01T10:15:00Z", "support"]
    assert (support["offered"], support["abandoned"], support["avg_abandon_wait"]) == (1, 1, 50.0)
    assert rows["2024-01-01T10:00:00Z", "support"]["offered"] == 0


def test_without_config_the_threshold_is_20s(log_path: Path) -> None:
    code, out, _ = invoke("--from", FROM, "--to", TO, "--events", log_path, "--json")
    assert code == 0
    late = rows_of(out)["2024-01-01T10:15:00Z", "sales"]
    assert (late["answered_within_threshold"], late["service_level"]) == (1, 1.0)


def test_epoch_and_naive_times_and_hourly_interval(log_path: Path) -> None:
    code, out, _ = invoke(
        "--from",
        str(int(T0)),
        "--to",
        "2024-01-01T11:00:00",
        "--interval",
        "1h",
        "--events",
        log_path,
        "--json",
    )
    assert code == 0
    rows = rows_of(out)
    assert list(rows) == [("2024-01-01T10:00:00Z", "sales"), ("2024-01-01T10:00:00Z", "support")]
    sales = rows["2024-01-01T10:00:00Z", "sales"]
    assert (sales["offered"], sales["answered"], sales["answered_within_threshold"]) == (6, 4, 2)


def test_csv(log_path: Path) -> None:
    code, out, _ = invoke(
        "--from", FROM, "--to", "2024-01-01T10:15:00Z", "--events", log_path, "--csv"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ",".join(FIELDS)
    assert lines[1].startswith("2024-01-01T10:00:00Z,1704103200.0,900.0,sales,5,3,2,1,1,3,0.2,")
    assert len(lines) == 2  # support's only contact came after 10:15, and no config names it


def test_table(log_path: Path) -> None:
    code, out, err = invoke("--from", FROM, "--to", TO, "--events", log_path)
    assert (code, err) == (0, "")
    assert "sales" in out and "support" in out
    assert "20.0%" in out and "25.0%" in out and "35.0s" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "noon", "--to", TO], "invalid time 'noon'"),
        (["--from", TO, "--to", FROM], "must be before --to"),
        (["--from", FROM, "--to", FROM], "must be before --to"),
        (["--from", FROM, "--to", TO, "--interval", "15x"], "invalid interval '15x'"),
        (["--from", FROM, "--to", TO, "--json", "--csv"], "exclusive"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(log_path: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(*args, "--events", log_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_missing_event_log(tmp_path: Path) -> None:
    code, out, err = invoke("--from", FROM, "--to", TO, "--events", tmp_path / "nope.sqlite3")
    assert (code, out) == (2, "")
    assert err == f"error: event log {tmp_path / 'nope.sqlite3'} not found\n"
    assert not (tmp_path / "nope.sqlite3").exists()  # not created by looking


def test_broken_config(log_path: Path, fake_config: Path) -> None:
    code, _, err = invoke(
        "--from",
        FROM,
        "--to",
        TO,
        "--events",
        log_path,
        "--config",
        fake_config.with_name("broken.yaml"),
    )
    assert code == 2
    assert err.startswith("error: cannot load config") and err.count("\n") == 1
    assert "broken.yaml:3: queues.0.name: required" in err
