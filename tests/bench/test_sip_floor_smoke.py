"""benchmarks/sip_floor.py, the Python floor of benchmarks/sip_cps.py, against a real sipp.

A short probe at a low rate through the benchmark's own probing code
(benchmarks/sipp_load.py), so the floor cannot rot: every call sipp places
completes, none fails, on one process and on two SO_REUSEPORT workers with the
sipps spread over both. No timing assertions: timing lives in the benchmark.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
RATE, SECONDS = 100, 2

INVITE = (
    b"INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n"
    b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag00\r\n"
    b"To: service <sip:service@127.0.0.1:5060>\r\n"
    b"Call-ID: 1-1@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: sip:sipp@127.0.0.1:5061\r\n"
    b"Max-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 3\r\n\r\nv=0"
)


def load_bench(name: str) -> ModuleType:
    """benchmarks/ is not a package: load ``<name>.py`` by path."""
    key = f"ringway_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module  # dataclasses look their module up while building
        spec.loader.exec_module(module)
    return sys.modules[key]


def test_invite_answer_copies_the_dialog_fields_and_adds_a_to_tag() -> None:
    """RFC 3261 §8.2.6.2: Via, From, Call-ID, CSeq copied; To copied with a tag added."""
    floor = load_bench("sip_floor")
    out = floor.answer(INVITE, lambda: b"7f")
    head, _, sdp = out.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[:6] == [
        b"SIP/2.0 200 OK",
        b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0",
        b"From: sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag00",
        b"To: service <sip:service@127.0.0.1:5060>;tag=7f",
        b"Call-ID: 1-1@127.0.0.1",
        b"CSeq: 1 INVITE",
    ]
    assert f"Content-Length: {len(sdp)}".encode() in head and sdp.startswith(b"v=0\r\n")
    bye = INVITE.replace(b"INVITE sip:", b"BYE sip:").replace(b"1 INVITE", b"2 BYE")
    bye = bye.replace(b"5060>\r\n", b"5060>;tag=7f\r\n")
    assert floor.answer(bye, lambda: b"never").endswith(b"Content-Length: 0\r\n\r\n")
    assert b";tag=7f\r\n" in floor.answer(bye, lambda: b"never")  # the dialog's own tag
    assert floor.answer(INVITE.replace(b"INVITE sip:", b"ACK sip:", 1), bytes) is None  # §17
    assert floor.answer(b"SIP/2.0 200 OK\r\n\r\n", bytes) is None
    assert floor.answer(b"INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\n", bytes) is None


@pytest.mark.parametrize("workers", [1, 2])
def test_floor_answers_every_call_of_a_short_sipp_run(tmp_path: Path, workers: int) -> None:
    assert shutil.which("sipp"), "sipp (Debian sip-tester) is a test peer: make peers"
    sipp, floor = load_bench("sipp_load"), load_bench("sip_floor")
    port = sipp.free_port()
    command = [sys.executable, str(BENCH / "sip_floor.py"), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"  # all bound
    chosen: list[int] = []

    def spread(n: int) -> list[int]:
        chosen.extend(floor.balanced_ports(port, workers, n))
        return chosen[-n:]

    load = sipp.Load(SECONDS, 200, 5000, tmp_path, sipps_multiple=workers, source_ports=spread)
    try:
        sipp.wait_udp(port)
        step = sipp.probe(port, proc.pid, RATE, load)
        reached = [floor.worker_of(port, p) for p in chosen]
    finally:
        sipp.stop(proc)
    calls = RATE * SECONDS
    assert (step["calls"], step["successful"], step["failed"]) == (calls, calls, 0), step
    assert step["exit_codes"] == [0] and step["sipp_processes"] == workers
    assert reached == list(range(workers))  # one sipp per worker: the kernel spread them
