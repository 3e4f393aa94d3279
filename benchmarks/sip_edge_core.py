"""The SIP edge's per-call cost in one process, shaped like the router path's calls.

    .venv/bin/python benchmarks/sip_edge_core.py --calls 20000            # CPU µs per call
    .venv/bin/python benchmarks/sip_edge_core.py --calls 2000 --callgrind # instructions per call

`sip_cps.py --core-calls` measures the edge with its default handler, which
answers inside `on_invite` from the edge's own media address (so the SDP answer
cache always hits and no 180 is sent). Under `ringway serve` the B2BUA rings
inside `on_invite` (a 180 goes out when it returns) and answers later, from the
caller leg's own RTP port: a different `LocalMedia` on every call. `--shape
router` (the default) plays that: INVITE → 180, then `Call.answer` with a fresh
port → 200 with SDP, ACK, BYE → 200, timers run; `--shape default` is the
`sip_cps` core row's call.

`--callgrind` runs the loop under valgrind twice (N and 2N calls) and prints the
difference divided by N: instructions per call without the start-up, repeatable
on a shared machine where CPU time is not.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(calls: int, shape: str) -> dict[str, Any]:
    import sip_cps

    from ivr.edge import Call, CallHandler, SipEdge
    from ivr.sip.actions import Peer
    from ivr.sip.offer_answer import LocalMedia

    class RouterShaped(CallHandler):
        """Rings in `on_invite`, answers afterwards from a per-call port (the B2BUA)."""

        def __init__(self) -> None:
            self.pending: Call | None = None
            self.ended = 0

        def on_invite(self, call: Call) -> None:
            call.ring()
            self.pending = call

        def on_ended(self, call: Call) -> None:
            self.ended += 1

    peer = Peer("127.0.0.1", 5061, "UDP")
    handler = RouterShaped() if shape == "router" else CallHandler()
    edge = SipEdge("127.0.0.1", 5060, {}, handler=handler, max_server_transactions=None)
    edge.transport = wire = sip_cps._wire(edge)
    tag_of = re.compile(rb"\r\nTo: [^\r]*;tag=([^\r;]+)")
    invite, in_dialog = sip_cps._INVITE, sip_cps._IN_DIALOG

    def call(i: int) -> None:
        now = wire.clock.now = wire.clock.now + 0.0002
        edge.on_data(invite.format(i=i).encode(), peer, now)
        if isinstance(handler, RouterShaped) and handler.pending is not None:
            pending, handler.pending = handler.pending, None
            pending.answer(LocalMedia(address="127.0.0.1", port=20000 + 2 * (i % 10000)))
        found = tag_of.search(wire.sent)
        tag = found.group(1).decode() if found else ""
        edge.on_data(in_dialog.format(method="ACK", i=i, n=1, tag=tag).encode(), peer, now)
        edge.on_data(in_dialog.format(method="BYE", i=i, n=2, tag=tag).encode(), peer, now)
        edge.on_timer(now)

    for i in range(200):  # warm the caches the parser and builders keep
        call(i)
    cpu = time.process_time()
    for i in range(200, 200 + calls):
        call(i)
    cpu = time.process_time() - cpu
    if isinstance(handler, RouterShaped):
        assert handler.ended == 200 + calls, handler.ended
    return {
        "shape": shape,
        "calls": calls,
        "cpu_us_per_call": round(cpu / calls * 1e6, 1),
        "compiled": sip_cps._sip_compiled(),
        "sdp_cache_hits": edge.sdp_answers.hits,
    }


def callgrind(calls: int, shape: str) -> dict[str, Any]:
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (calls, 2 * calls):
            out = os.path.join(tmp, f"cg.{n}")
            subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    f"--callgrind-out-file={out}",
                    sys.executable,
                    __file__,
                    "--calls",
                    str(n),
                    "--shape",
                    shape,
                ],
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
            text = Path(out).read_text(encoding="utf-8", errors="replace")
            found = re.search(r"^summary: (\d+)", text, re.M) or re.search(
                r"^totals: (\d+)", text, re.M
            )
            assert found is not None
            counts.append(int(found.group(1)))
    return {
        "shape": shape,
        "calls": calls,
        "instructions_per_call": round((counts[1] - counts[0]) / calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--shape", choices=("router", "default"), default="router")
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    result = callgrind(args.calls, args.shape) if args.callgrind else run(args.calls, args.shape)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
