"""`CallArchive.record`'s fast paths: the cdr.jsonl line tried first without ``default``
(a value orjson refuses is written again with ``default=str``, as before), each loop
time made epoch on its own (`_make_epoch`), and the CLI's normalised number kept per CLI
(`CallArchive._caller_number`): the same answers as the slow forms."""

from __future__ import annotations

import decimal
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from cdr_kit import service_with

from ringway import telephony_records
from ringway.telephony_records import CallArchive, _cdr_jsonl, _make_epoch, caller_number


@pytest.mark.parametrize(
    "value",
    [decimal.Decimal("1.50"), uuid.UUID(int=7), Path("/x"), {1, 2}.__class__, object],
    ids=["decimal", "uuid", "path", "type", "class"],
)
def test_a_value_orjson_refuses_without_default_is_written_with_str(value: Any) -> None:
    record = {"call_id": "c1", "odd": value, "events": [{"v": value}]}
    assert _cdr_jsonl(record) == orjson.dumps(record, default=str, option=orjson.OPT_APPEND_NEWLINE)


def test_a_plain_record_is_written_without_default() -> None:
    record = {"call_id": "c1", "n": 1, "f": 0.5, "x": None, "l": [True], "d": {"a": "é"}}
    assert _cdr_jsonl(record) == orjson.dumps(record) + b"\n"


@pytest.mark.parametrize(
    "value",
    [1000.25, 7, True, 0.0, None, "not a time", 1e300],
)
def test_make_epoch_is_the_loop_it_replaced(value: Any) -> None:
    offset = 1_799_999_000.5
    record: dict[str, Any] = {"started_at": value}
    _make_epoch(record, "started_at", offset)
    if value is not None and isinstance(value, int | float):
        assert record == {"started_at": round(value + offset, 3)}
        assert type(record["started_at"]) is float
    else:
        assert record == {"started_at": value}
    missing: dict[str, Any] = {}
    _make_epoch(missing, "ended_at", offset)
    assert missing == {}


def test_the_callers_number_is_kept_per_cli(tmp_path: Path) -> None:
    archive = CallArchive(service_with(data_dir=str(tmp_path), region="GB"), None, cdr_keep=4)
    clis = ["sip:+447700900456@h", "02079460958", "not a number", None]
    expected = [caller_number(cli, "GB") for cli in clis]
    assert [archive._caller_number(cli) for cli in clis] == expected
    assert set(archive._numbers) == {cli for cli in clis if cli is not None}
    kept = telephony_records._NUMBERS_KEPT
    for n in range(kept + 1):
        archive._caller_number(f"x{n}")
    assert len(archive._numbers) <= kept  # started again when full
    assert [archive._caller_number(cli) for cli in clis] == expected
