"""The mail case store: what writing each accepted message before the SMTP 250 costs.

    .venv/bin/python benchmarks/mail_store.py [--messages 400] [--cases 20000]

Prints ONE JSON line on stdout. A temporary directory on the same disk as
``service.data_dir`` would be (``--dir``, default: the system temp dir) holds a
fresh store. Measured in one run:

* ``save_inbound`` as the intake does it, one message after another (each
  message of ~2 KB opens a case): latency per message (p50, p99) and CPU
  seconds per message (``process_time``, all threads: the worker's SQLite work
  included; neighbours on a shared machine do not inflate it), with the store's
  ``synchronous=FULL`` and, for the ratio, the ``NORMAL`` the other stores use;
* the event loop's lag while the writes run (a 1 ms ticker; p99 and max): the
  disk work is on the worker thread, so the p99 stays near the ticker's own
  resolution (the max also catches the shared machine's scheduling stalls);
* a start: loading ``--cases`` cases (one message in, one reply out each) back
  into memory, and pruning all of them past retention.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from channels.mail.message import InboundMail
from channels.mail.store import CaseStore, check
from channels.mail.threads import Case, MailEntry, inbound_entry

BODY = ("Hello, my order has not arrived yet and the tracking page shows nothing. " * 27)[:2000]


def mail(n: int) -> InboundMail:
    return InboundMail(
        message_id=f"<m{n}@example.org>",
        in_reply_to=(),
        references=(),
        subject=f"Order #{n} has not arrived",
        sender=f"customer{n}@example.org",
        sender_name="A Customer",
        reply_to=None,
        recipients=("help@ringway.test",),
        date=None,
        text=BODY,
        attachments=(),
        size=len(BODY) + 400,
    )


async def lag_ticker(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.001)
        lags.append(loop.time() - before - 0.001)


async def idle_lag_p99_ms(seconds: float) -> float:
    """The ticker alone, nothing written: the machine's own baseline for the lag."""
    stop, lags = asyncio.Event(), [0.0]
    ticker = asyncio.get_running_loop().create_task(lag_ticker(stop, lags))
    await asyncio.sleep(seconds)
    stop.set()
    await ticker
    lags.sort()
    return round(lags[int(len(lags) * 0.99) - 1] * 1000, 3)


async def writes(path: Path, messages: int, synchronous: str) -> dict[str, float]:
    check(path)
    store = CaseStore(path)
    await store._db.run(lambda c: c.execute(f"PRAGMA synchronous={synchronous}"))
    stop, lags = asyncio.Event(), [0.0]
    ticker = asyncio.get_running_loop().create_task(lag_ticker(stop, lags))
    latencies = []
    cpu = time.process_time()
    for n in range(messages):
        case = Case(id=f"case-{n}", subject=f"Order #{n}", customer=f"customer{n}@example.org")
        started = time.perf_counter()
        await store.save_inbound(case, inbound_entry(mail(n), f"c-mail-{n}", time.time()), mail(n))
        latencies.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    stop.set()
    await ticker
    await store.close()
    latencies.sort()
    lags.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3),
        "cpu_s_per_message": round(cpu / messages, 6),
        "loop_lag_p99_ms": round(lags[int(len(lags) * 0.99) - 1] * 1000, 3),
        "loop_lag_max_ms": round(lags[-1] * 1000, 3),
    }


async def start_up(path: Path, cases: int) -> dict[str, float]:
    check(path)
    store = CaseStore(path)
    now = time.time()
    for n in range(cases):
        case = Case(id=f"case-{n}", subject=f"Order #{n}", customer=f"customer{n}@example.org")
        entry = inbound_entry(mail(n), f"c-mail-{n}", now - 86_400)
        await store.save_inbound(case, entry, mail(n))
        out = MailEntry(
            direction="outbound",
            message_id=f"<r{n}@ringway.test>",
            at=now - 86_400,
            sender="help@ringway.test",
            to=case.customer,
            subject=f"Re: Order #{n}",
            text="It ships today.",
            contact_id=f"c-mail-{n}",
            agent_id="alice",
        )
        await store.save_outbound(case, out)
    await store.finished(*(f"c-mail-{n}" for n in range(cases)))
    started, cpu = time.perf_counter(), time.process_time()
    loaded = await store.load(cases)
    load_s, load_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(loaded.cases) == cases
    started = time.perf_counter()
    pruned = await store.prune(older_than=now, keep=cases)
    prune_s = time.perf_counter() - started
    assert pruned == cases
    await store.close()
    return {
        "cases": cases,
        "load_s": round(load_s, 3),
        "load_cpu_s": round(load_cpu, 3),
        "prune_s": round(prune_s, 3),
    }


def check_ms(path: Path) -> float:
    """`ringway.app.build` opens and writes the store once, synchronously (before the loop
    runs under `ringway serve`): what that costs on an existing store."""
    check(path)
    started = time.perf_counter()
    check(path)
    return round((time.perf_counter() - started) * 1000, 3)


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        root = Path(work)
        full = await writes(root / "full.sqlite3", args.messages, "FULL")
        normal = await writes(root / "normal.sqlite3", args.messages, "NORMAL")
        start = await start_up(root / "start.sqlite3", args.cases)
        start["check_ms"] = check_ms(root / "full.sqlite3")
        idle = await idle_lag_p99_ms(1.0)
    return {
        "benchmark": "mail_store",
        "messages": args.messages,
        "body_bytes": len(BODY),
        "full": full,
        "normal": normal,
        "full_over_normal_p50": round(full["p50_ms"] / max(normal["p50_ms"], 1e-6), 2),
        "start": start,
        "loop_lag_idle_p99_ms": idle,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--dir", default=None, help="where the temporary stores go")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
