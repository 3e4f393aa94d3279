"""cdr.jsonl: every finished call's record is one line, in the order the calls ended.

Lines of calls that end in the same loop iteration are written together (one open,
one write); the file is reopened per write, so a rotated file is picked up.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from crm.memory import MemoryCustomerStore
from ringway.config import load_config_text
from ringway.service import RoutingService
from ringway.telephony_records import CallArchive


def archive(tmp: Path) -> CallArchive:
    config = load_config_text(f'service: {{data_dir: "{tmp / "data"}"}}\nqueues: [{{name: q}}]')
    return CallArchive(RoutingService(config, MemoryCustomerStore()), None, cdr_keep=10)


def lines(tmp: Path) -> list[dict[str, object]]:
    text = (tmp / "data" / "cdr.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_calls_ending_together_are_written_in_order_once_the_loop_turns(tmp_path: Path) -> None:
    cdrs = archive(tmp_path)

    async def main() -> None:
        for n in range(3):
            cdrs.record({"call_id": f"c{n}", "ended_at": float(n)})
        assert not (tmp_path / "data" / "cdr.jsonl").exists()  # nothing yet: one write
        await asyncio.sleep(0)
        assert [r["call_id"] for r in lines(tmp_path)] == ["c0", "c1", "c2"]
        (tmp_path / "data" / "cdr.jsonl").rename(tmp_path / "data" / "cdr.1.jsonl")  # rotated
        cdrs.record({"call_id": "c3"})
        await cdrs.close()  # writes what is pending
        assert [r["call_id"] for r in lines(tmp_path)] == ["c3"]

    asyncio.run(main())
    assert [r["direction"] for r in lines(tmp_path)] == ["inbound"]


def test_without_a_running_loop_the_line_is_written_at_once(tmp_path: Path) -> None:
    cdrs = archive(tmp_path)
    cdrs.record({"call_id": "alone"})
    assert [r["call_id"] for r in lines(tmp_path)] == ["alone"]


def test_a_line_is_compact_utf8_json_and_the_directory_is_made(tmp_path: Path) -> None:
    cdrs = archive(tmp_path)  # data dir not made yet: the first write makes it
    record = {"call_id": "c\u00e9", "media": {"path": Path("/x/y.wav")}, "digits": "1#"}
    cdrs.record(dict(record))
    text = (tmp_path / "data" / "cdr.jsonl").read_text(encoding="utf-8")
    # a Path as its text, non-ASCII as UTF-8, no spaces: one JSON document per line
    assert (
        text
        == '{"call_id":"c\u00e9","media":{"path":"/x/y.wav"},"digits":"1#","direction":"inbound"}\n'
    )
    assert json.loads(text) == {**record, "media": {"path": "/x/y.wav"}, "direction": "inbound"}
