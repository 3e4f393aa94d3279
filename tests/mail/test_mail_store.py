"""The case store on its own (real SQLite files): retention, and cases the in-memory cache
forgot being read back from disk when a customer answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from channels.mail.message import parse_mail
from channels.mail.store import CaseStore, check
from channels.mail.threads import Case, inbound_entry

DAY = 86_400.0


def inbound(n: int) -> Any:
    raw = (
        f"From: c{n}@example.org\r\nSubject: case {n}\r\nMessage-ID: <m{n}@example.org>\r\n"
        f"\r\nbody {n}\r\n"
    ).encode()
    return parse_mail(raw, ["help@ringway.test"], body_chars=1000, id_domain="ringway.test")


async def add(store: CaseStore, n: int, at: float) -> None:
    case = Case(id=f"case-{n}", subject=f"case {n}", customer=f"c{n}@example.org")
    mail = inbound(n)
    await store.save_inbound(case, inbound_entry(mail, f"c-mail-{n}", at), mail)


def test_retention_drops_old_and_surplus_cases_but_never_an_open_one(tmp_path: Path) -> None:
    async def main() -> None:
        path = tmp_path / "mail.sqlite3"
        check(path)
        store = CaseStore(path)
        now = 1_000 * DAY
        for n in range(6):  # case-0 is 60 days idle, case-5 active now
            await add(store, n, now - (5 - n) * 12 * DAY)
        await store.finished(*(f"c-mail-{n}" for n in range(6) if n != 0))
        # 30 days kept: cases 0..2 are older (0 stays: its e-mail is still open)
        assert await store.prune(older_than=now - 30 * DAY, keep=100) == 2
        # at most 2 cases kept: 3 goes; 0 stays open whatever the count
        assert await store.prune(older_than=0, keep=2) == 1
        loaded = await store.load(100)
        assert sorted(case.id for case, _ in loaded.cases) == ["case-0", "case-4", "case-5"]
        assert [c.contact_id for c in loaded.open] == ["c-mail-0"]
        assert loaded.open[0].mail.text == "body 0"
        await store.close()

    asyncio.run(main())


def test_a_case_the_cache_forgot_is_read_back_when_the_customer_answers(
    run_mail: Any, compose: Any
) -> None:
    async def scenario(desk: Any) -> None:
        desk.bundle.mail.threads.max_cases = 1  # the cache holds one case, the disk all
        alice = await desk.agent("alice")
        await desk.send(compose("First", "one", Message_ID="<first@example.org>"))
        first = await alice.expect("offer")
        await alice.ok("accept", contact_id=first["contact_id"])
        await alice.ok("complete", contact_id=first["contact_id"], disposition="resolved")
        await desk.send(compose("Second", "two", sender="j.okafor@example.com"))
        second = await alice.expect("offer")
        assert second["contact"]["email"]["case_id"] != first["contact"]["email"]["case_id"]
        assert len(desk.bundle.mail.threads) == 1  # the first case left the cache
        await alice.ok("accept", contact_id=second["contact_id"])
        await alice.ok("complete", contact_id=second["contact_id"], disposition="resolved")
        await desk.send(compose("Re: First", "again", In_Reply_To="<first@example.org>"))
        third = await alice.expect("offer")
        assert third["contact"]["email"]["case_id"] == first["contact"]["email"]["case_id"]
        assert [m["text"] for m in third["contact"]["case"]["messages"]] == ["one", "again"]

    run_mail(scenario)
