"""A telephony node's call records: per-queue recordings and call detail records.

The B2BUA reaches these through `ringway.telephony.RouterCentre`: a queue that
records gets a `Recorder` on the bridge (docs/recording.md), written off the loop
when the bridge ends; each finished call's CDR is kept in memory (the latest
``cdr_keep``, for `GET /api/v1/calls`), appended as one JSON line to
``<data_dir>/cdr.jsonl`` and, once its recording is written, filed in the CDR
store (`GET /api/v1/cdrs`) with the recording's id. `history_note` is the call's
summary in the customer's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import json.encoder
import logging
import math
import os
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson

from crm.phone import normalize_phone
from ivr.media.recorder import Recorder
from ringway.calls import CallRecords
from ringway.recordings import RecordingSession
from ringway.schema import RecordingDoc
from ringway.service import RoutingService
from router.errors import RoutingError

log = logging.getLogger(__name__)


# cdr.jsonl's lines: json.dumps(cdr, default=str) builds an encoder per call; one kept
# encoder with the same settings writes the same text. Without the circular-reference
# check (~2 of ~10 µs per line: a dict of seen containers kept per encode): a call's
# record is the driver's fresh dict of scalars, lists and dicts, never circular (were
# it, the encoder would still raise, RecursionError for ValueError).
_CDR_JSON = json.JSONEncoder(default=str, check_circular=False)
# What `_CDR_JSON.encode(cdr)` runs for a dict, without building the C encoder (and a
# float closure) again per call: `JSONEncoder.iterencode` makes one per encode from the
# same settings. Reusable because it keeps no state between calls: no circular-check
# markers (check_circular=False above). Without the C accelerator, the encoder itself.
_C_MAKE_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_CDR_TIMES: Final = ("started_at", "answered_at", "queued_at", "bridged_at", "ended_at")
_NUMBER: Final = (int, float)  # what `isinstance(..., int | float)` took, as a tuple (quicker)


def _encoder(encoder: json.JSONEncoder) -> Callable[[dict[str, Any]], str]:
    """``encoder.encode`` for a dict, with one C encoder built once (when it can be)."""
    # Its settings read untyped: typeshed declares ``indent`` an int or a str, and
    # compiled code checks what it reads against that (a None raised TypeError).
    settings: Any = encoder
    if _C_MAKE_ENCODER is None or settings.indent is not None or settings.check_circular:
        return encoder.encode  # the Python encoder, or one whose markers are per call
    chunks = _C_MAKE_ENCODER(
        None,  # markers: no circular check
        settings.default,
        json.encoder.encode_basestring_ascii
        if settings.ensure_ascii
        else json.encoder.encode_basestring,
        settings.indent,
        settings.key_separator,
        settings.item_separator,
        settings.sort_keys,
        settings.skipkeys,
        settings.allow_nan,
    )

    def encode(record: dict[str, Any]) -> str:
        return "".join(chunks(record, 0))

    return encode


_json_line = _encoder(_CDR_JSON)
# orjson writes the same document ~6x faster than the C json encoder (1.2 against 7.4
# µs for a queued-then-abandoned call's record): compact, UTF-8 rather than \u escapes,
# and NaN/Infinity as null (strict JSON, which every JSON Lines reader accepts). What it
# refuses (an integer beyond 64 bits, a key of another type) goes through json instead.
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def _cdr_line(record: dict[str, Any]) -> bytes:
    """One cdr.jsonl line (without its newline), as UTF-8.

    First without OPT_NON_STR_KEYS, which takes orjson's slower path for every dict
    (~21,000 instructions a router-path record against ~14,000); a record it refuses
    that way (a key that is not a str) is written with it, the same text for the rest."""
    try:
        return orjson.dumps(record, default=str)
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(record, default=str, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return _json_line(record).encode("utf-8")


_NEWLINE: Final = orjson.OPT_APPEND_NEWLINE


def _cdr_jsonl(record: dict[str, Any]) -> bytes:
    """`_cdr_line` with its newline: orjson appends it to the document it writes
    (OPT_APPEND_NEWLINE), where ``line + b"\n"`` copied the ~900-byte line once more.

    First without ``default`` and with positional arguments (~500 instructions fewer
    than the keywords): a record of JSON types only, the router path's, is written the
    same either way; one orjson refuses without ``default`` is written again with it."""
    try:
        return orjson.dumps(record, None, _NEWLINE)
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(record, default=str, option=_NEWLINE)
    except orjson.JSONEncodeError:
        return _cdr_line(record) + b"\n"


# Loop seconds + the offset, to the millisecond: `round(t, 3)` formats the float as
# decimal text and parses it back (~3,600 instructions, four times a call).
# Final literals: compiled, constants in the code rather than module globals read per use.
_TWO_43: Final = 8796093022208.0  # 2**43 ms, the year 2248; an ulp there is 2**-10
_BELOW_HALF: Final = 0.498046875  # 0.5 - 2**-9: this far from a half is over an ulp from it
_ABOVE_HALF: Final = 0.501953125  # 0.5 + 2**-9


def _to_ms(t: float) -> float:
    """``round(t, 3)`` for a float, exactly. For 0 < t*1000 < 2**43 whose fraction is
    more than 2**-9 (over one ulp) from a half, the nearest integer to the computed
    product is the nearest to the exact one (the product is off by at most half an
    ulp), and dividing that integer by 1000 rounds correctly, as reading its decimal
    text does; anything else (near a half, zero, negative, huge, NaN) goes to `round`."""
    scaled = t * 1000.0
    if 0.0 < scaled < _TWO_43:
        # both exact (`math.modf`'s; a C floor where compiled, not a call and a tuple):
        # floor(x) <= x < 2*floor(x) for x >= 1, so x - floor(x) is exact (Sterbenz)
        whole = float(math.floor(scaled))
        fraction = scaled - whole
        if fraction < _BELOW_HALF:
            return whole / 1000.0
        if fraction > _ABOVE_HALF:
            return (whole + 1.0) / 1000.0
    return round(t, 3)


def _make_epoch(cdr: dict[str, Any], key: str, offset: float) -> None:
    """``cdr[key]``, a loop time, made epoch milliseconds (`_to_ms`); a key missing,
    None or not a number is left as it is."""
    value = cdr.get(key)
    if type(value) is float:  # the driver's loop times
        seconds: float = value  # compiled: a C double, added and rounded unboxed
        cdr[key] = _to_ms(seconds + offset)
    elif value is not None and isinstance(value, _NUMBER):
        cdr[key] = _to_ms(value + offset)


_NUMBERS_KEPT: Final = 4096
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def _hangup_by(side: object) -> str:
    """Who hung up, in the CDR store's words."""
    if side in ("caller", "agent", "customer"):
        return str(side)  # one of those words (as it was given: str() of a str is itself)
    return "system"


@functools.lru_cache(maxsize=4096)
def caller_number(cli: str | None, region: str) -> str | None:
    """`normalize_phone`, remembered: a call's CLI is normalised for its IVR and again
    for its CDR, a parse (phonenumbers) that cost more than routing the call, and
    trunks send the same callers again and again. Pure, so the cache is safe."""
    return normalize_phone(cli, region)


class CallArchive:
    """Recordings being made and CDRs being filed for one node's calls."""

    def __init__(self, service: RoutingService, calls: CallRecords | None, cdr_keep: int) -> None:
        self.service = service
        self.calls = calls  # recordings and the CDR store (ringway.calls), when the app has them
        self.cdrs: deque[dict[str, Any]] = deque(maxlen=cdr_keep)
        self.cdr_path = Path(service.config.path_setting("{data_dir}")) / "cdr.jsonl"
        # the CLI's region, read once: the service's configuration is fixed for its life
        self._region = service.config.service.default_region
        # `caller_number` of a CLI, by the CLI: for this archive's one region, a dict
        # read instead of the lru_cache's key tuple and call (~600 instructions a call)
        self._numbers: dict[str, str | None] = {}
        self.loop_offset = 0.0  # wall clock minus loop clock, for the records
        self._recordings: dict[str, RecordingSession] = {}  # by the caller's Call-ID
        self._finishing: dict[str, asyncio.Task[str | None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lines: list[bytes] = []  # cdr.jsonl lines of this loop iteration, not yet written
        self._announcements: dict[str, str | None] = {}  # recording_announcement's, by queue

    def recording_announcement(self, contact_id: str) -> str | None:
        """The prompt the contact's queue plays before it records, if it records."""
        if self.calls is None:
            return None
        try:
            queue = self.service.reads.contact(contact_id).queue
        except RoutingError:
            return None
        try:
            return self._announcements[queue]
        except KeyError:
            pass
        # once per queue: the service's configuration is fixed for its lifetime, and a
        # queue without recording settings builds a default settings model every time
        policy = self.calls.recordings.policy(queue)
        announcement = self._announcements[queue] = policy.announcement if policy.enabled else None
        return announcement

    def start_recording(
        self, contact_id: str, call_id: str, policy: RecordingDoc | None = None
    ) -> Recorder | None:
        """A recorder for the bridge when the contact's queue (or ``policy``: a dialler
        campaign's) records, else None."""
        if self.calls is None:
            return None
        try:
            session = self.calls.recordings.start(
                contact_id=contact_id, call_id=call_id, policy=policy
            )
        except RoutingError:
            return None
        if session is None:
            return None
        self._recordings[call_id] = session
        return session.recorder

    def stop_recording(self, call_id: str) -> None:
        """The bridge is over: write the recording (off the loop) for the CDR to name."""
        session = self._recordings.pop(call_id, None)
        if session is not None:
            self._finishing[call_id] = self._spawn(self._finish_recording(session))

    async def _finish_recording(self, session: RecordingSession) -> str | None:
        assert self.calls is not None
        try:
            return (await self.calls.recordings.finish(session)).id
        except Exception:  # a full disk must not stop call handling; the CDR says none
            log.exception("recording %s not written", session.meta.id)
            return None

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Wait for recordings and CDRs still being written."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._write_lines()

    # -- call detail records ---------------------------------------------------------------

    def record(self, cdr: dict[str, Any]) -> None:
        """File one call's record; times in loop seconds (made epoch here). The dialer's
        records carry ``direction: outbound``; the B2BUA's are inbound."""
        cdr.setdefault("direction", "inbound")
        offset = self.loop_offset
        # each of `_CDR_TIMES` by name, not a loop over the tuple (an iterator, ~500)
        _make_epoch(cdr, "started_at", offset)
        _make_epoch(cdr, "answered_at", offset)
        _make_epoch(cdr, "queued_at", offset)
        _make_epoch(cdr, "bridged_at", offset)
        _make_epoch(cdr, "ended_at", offset)
        self.cdrs.append(cdr)
        self._append(_cdr_jsonl(cdr))
        if self.calls is not None:
            self._file(cdr)

    def _file(self, cdr: dict[str, Any]) -> None:
        """Into the CDR store (`GET /api/v1/cdrs`): at once, or once the call's recording
        is written, to name it."""
        if self._finishing:  # a recording being written (none on most nodes' calls)
            finishing = self._finishing.pop(cdr.get("call_id") or "", None)
            if finishing is not None:
                self._spawn(self._file_with_recording(cdr, finishing))
                return
        assert self.calls is not None
        try:
            # built now and queued for the store's next batch: no task, no future per
            # call; the record as `_for_store` gives it, without the copy
            cli = cdr.get("cli")
            self.calls.cdrs.file_call(
                cdr, self._caller_number(cli) or cli, _hangup_by(cdr.get("hangup_side"))
            )
        except Exception:  # the call's teardown must go on whatever the CDR store does
            log.exception("CDR for call %r not filed", cdr.get("call_id"))

    async def _file_with_recording(
        self, cdr: dict[str, Any], finishing: asyncio.Task[str | None]
    ) -> None:
        assert self.calls is not None
        recording_id = await finishing
        if recording_id is not None:
            cdr["recording_id"] = recording_id
        # awaited here rather than handed to `CallDetails.submit`: one task per call, not
        # two; `close` waits for this task, and the telephony stops before the CDR store
        await self.calls.cdrs.from_call_record(self._for_store(cdr, recording_id))

    def _caller_number(self, cli: str | None) -> str | None:
        """`caller_number` of ``cli`` in this archive's region, kept per CLI (at most
        `_NUMBERS_KEPT`, then started again: trunks send the same callers again)."""
        if cli is None:
            return caller_number(cli, self._region)
        numbers = self._numbers
        if cli in numbers:
            return numbers[cli]
        if len(numbers) >= _NUMBERS_KEPT:
            numbers.clear()
        number = numbers[cli] = caller_number(cli, self._region)
        return number

    def _for_store(self, cdr: dict[str, Any], recording_id: str | None) -> dict[str, Any]:
        """The record as the CDR store takes it: the CLI normalised, who hung up in its
        words, the recording's id (or none)."""
        return {
            **cdr,
            "cli": caller_number(cdr.get("cli"), self._region) or cdr.get("cli"),
            "hangup_by": _hangup_by(cdr.get("hangup_side")),
            "recording_id": recording_id,
        }

    def _append(self, line: bytes) -> None:
        """One line for cdr.jsonl, written with the others of this loop iteration: calls
        that end together (a burst of BYEs) cost one open and one write, not one each.
        Lines keep their order; without a running loop the line is written at once."""
        self._lines.append(line)
        if len(self._lines) > 1:
            return  # the write is already scheduled
        try:
            asyncio.get_running_loop().call_soon(self._write_lines)
        except RuntimeError:
            self._write_lines()

    def _write_lines(self) -> None:
        """Append the pending lines to cdr.jsonl, opened per write so a rotated file is
        picked up; the directory is made only when missing (a `mkdir` per call was a
        syscall the router path paid for nothing)."""
        lines, self._lines = self._lines, []
        if not lines:
            return
        data = b"".join(lines)
        with contextlib.suppress(OSError):  # the CDR store and the memory copy still get it
            # os.open/os.write: three system calls (open, write, close), where a text file
            # object adds fstat, ioctl and lseek, and the wrapper objects, every time
            try:
                fd = os.open(self.cdr_path, _APPEND, 0o666)
            except FileNotFoundError:
                self.cdr_path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.cdr_path, _APPEND, 0o666)
            try:
                while data:  # O_APPEND: each write lands at the end; a short one goes on
                    data = data[os.write(fd, data) :]
            finally:
                os.close(fd)

    def history_note(self, contact_id: str) -> str | None:
        """The call's summary for the customer's history (a `TranscriptSource`)."""
        record = next((r for r in reversed(self.cdrs) if r.get("contact_id") == contact_id), None)
        if record is None:
            return None
        if record.get("direction") == "outbound":
            return dialled_note(record)
        media = record.get("media", {})
        lines = [
            f"SIP call {record['call_id']} from {record.get('cli') or 'an unknown number'}",
            f"IVR digits: {record.get('digits') or '-'}; queue {record.get('queue')}",
            f"agents rung: {', '.join(record.get('agents_tried', [])) or '-'}",
            f"outcome: {record.get('outcome')}, hung up by {record.get('hangup_side')}",
            f"RTP relayed: {media.get('caller_to_agent', 0)} in, "
            f"{media.get('agent_to_caller', 0)} out",
        ]
        if record.get("transfers"):
            lines.append(f"transfers: {', '.join(record['transfers'])}")
        return "\n".join(lines)


def dialled_note(record: dict[str, Any]) -> str:
    """A dialled call's summary for the customer's history."""
    dialer = record.get("dialer", {})
    media = dialer.get("rtp", {})
    lines = [
        f"Dialled call {record['call_id']} to {record.get('dialed')} "
        f"(campaign {dialer.get('campaign')}, lead {dialer.get('lead_id')}, "
        f"caller ID {record.get('cli')})",
        f"outcome: {record.get('outcome')} after {dialer.get('ring_s')} s ringing; "
        f"agent {record.get('agent_id') or '-'}; hung up by {record.get('hangup_side')}",
        f"RTP relayed: {media.get('caller_to_agent', 0)} in, {media.get('agent_to_caller', 0)} out",
        f"compliance proof: attempt {dialer.get('attempt_id')}",
    ]
    if record.get("recording_id"):
        lines.append(f"recording: {record['recording_id']}")
    return "\n".join(lines)
