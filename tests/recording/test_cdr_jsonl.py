"""`_cdr_jsonl`: a cdr.jsonl line with its newline written by orjson is `_cdr_line`'s
line and a newline, for a router-path call's record and for the records orjson refuses
on its fast path (a key that is not a str)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ringway.telephony_records import _cdr_jsonl, _cdr_line

# A queued-then-abandoned call's record as the B2BUA hands it over (benchmarks/router_core.py)
ROUTER_PATH: dict[str, Any] = {
    "call_id": "9-core@127.0.0.1", "cli": "sip:+447700900456@127.0.0.1:34563",
    "dialed": "service", "agents_tried": [], "announcements": 0,
    "events": [
        {"at": 1765117000.919, "phase": "routing", "event": "contact_queued",
         "contact_id": "c-064cc3d869645784", "queue": "cps"},
        {"at": 1765117000.924, "phase": "queued", "event": "call_ended", "side": "caller",
         "reason": "bye"},
    ],
    "started_at": 1765117000.918, "customer_id": "cust-1002", "answered_at": 1765117000.918,
    "queue": "cps", "ivr_attributes": {"cli": "+447700900456"},
    "contact_id": "c-064cc3d869645784", "queued_at": 1765117000.919,
    "hold": {"music": False, "announcements": False}, "hangup_side": "caller",
    "hangup_reason": "bye", "outcome": "abandoned_in_queue", "ended_at": 1765117000.924,
    "digits": "", "direction": "inbound",
    "media": {"caller_to_agent": 0, "agent_to_caller": 0, "played_to_caller": 0,
              "caller_packets": 0, "agent_packets": 0, "dropped": 0},
}  # fmt: skip


@pytest.mark.parametrize(
    "record",
    [ROUTER_PATH, {**ROUTER_PATH, "cli": "Zoë <sip:+44@h>"}, {1: "an int key", "x": {2: 3}}],
    ids=["router-path", "non-ascii", "non-str-keys"],
)
def test_the_line_and_its_newline(record: dict[Any, Any]) -> None:
    line = _cdr_jsonl(record)
    assert line == _cdr_line(record) + b"\n"
    assert line.count(b"\n") == 1 and json.loads(line) == json.loads(_cdr_line(record))


def test_what_the_encoder_refuses_is_still_refused() -> None:
    with pytest.raises(TypeError):
        _cdr_jsonl({(1, 2): "tuple keys are refused"})  # type: ignore[dict-item]
