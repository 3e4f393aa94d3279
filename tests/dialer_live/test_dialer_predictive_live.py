"""End to end: a predictive campaign over a sipp carrier with three agents.

sipp answers, rejects (486) or lets ring (until our CANCEL) by number; three
agents (alice, bob, carol: the queue asks english >= 9) take offers over REST
and talk 1-2 s. Shown: the pacer dials more lines than there are free agents;
every answered line either reached an agent within 2 s of the answer or
heard the safe-harbour message within 2 s (47 CFR 64.1200(a)(7)(i)) and was
counted abandoned; the abandonment ledger matches the calls; each lead was
dialled once with the outcome its number asked for; no agent is left reserved.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

from dialer_kit import CAMPAIGN, START, Centre, carrier, mixed, running_centre
from peer_kit import needs_sipp, wait_for

from dialer.campaign import load_campaign_text
from dialer.leads import DEFAULT_RETRY, Outcome
from ringway.dialer_live.pool import campaign_pool
from ringway.dialer_live.runner import CampaignRunner

pytestmark = needs_sipp

AGENTS = ("alice", "bob", "carol")
QUEUE = """queues:
  - name: outbound-sales
    channel: outbound
    requires: "english>=9"
    strategy: longest-idle
    wrap_up_s: 0
"""
PREDICTIVE = CAMPAIGN.replace("mode: progressive", "mode: predictive")
ANSWERS = [f"+121255501{n}" for n in range(10, 19)]  # 9 people
BUSY = [f"+121255501{n}" for n in range(20, 24)]  # 4 busy lines
SILENT = [f"+121255501{n}" for n in range(30, 33)]  # 3 nobody home
# five people first: the first wave over-dials three free agents; later ones mix
MIXED = zip(BUSY, ANSWERS[5:], [*SILENT, ""], strict=True)
NUMBERS = ANSWERS[:5] + [number for trio in MIXED for number in trio if number]
EXPECTED = {
    **{number: (Outcome.BUSY,) for number in BUSY},
    **{number: (Outcome.NO_ANSWER,) for number in SILENT},
    **{number: (Outcome.ANSWERED, Outcome.ABANDONED) for number in ANSWERS},
}


@dataclass
class Watch:
    """What the test saw: (lines in flight, free agents) samples, answer and accept times."""

    samples: list[tuple[int, int]] = field(default_factory=list)
    answered_at: dict[str, float] = field(default_factory=dict)  # attempt id -> 200 OK
    accepted_at: dict[str, float] = field(default_factory=dict)  # attempt id -> accept
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def watch_lines(centre: Centre, runner: CampaignRunner, watch: Watch) -> None:
    dialer = centre.dialer
    while not watch.stop.is_set():
        pool = campaign_pool(dialer.service, runner.campaign, dialer.blender)
        watch.samples.append((len(runner.lines), pool.free))
        for attempt_id, line in list(runner.lines.items()):
            if line.answered_at is not None:
                watch.answered_at.setdefault(attempt_id, line.answered_at)
        await asyncio.sleep(0.02)


async def agent(centre: Centre, agent_id: str, watch: Watch, rng: random.Random) -> None:
    """Take each offer after a short reaction, talk 1-2 s, complete (no wrap-up)."""
    loop, base = asyncio.get_running_loop(), f"/api/v1/agents/{agent_id}"
    while not watch.stop.is_set():
        reply = await centre.client.get(f"{base}/offers", headers=centre.headers)
        offers = reply.json()["offers"]
        if not offers:
            await asyncio.sleep(0.05)
            continue
        contact_id = offers[0]["contact_id"]
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        reply = await centre.client.post(
            f"{base}/offers/{contact_id}/accept", headers=centre.headers
        )
        if reply.status_code != 200:  # withdrawn: the line was given the safe-harbour prompt
            continue
        accepted = loop.time()
        watch.accepted_at[reply.json()["contact"]["attributes"]["attempt_id"]] = accepted
        await asyncio.sleep(rng.uniform(1.0, 2.0))
        await centre.call(
            "POST", f"/agents/{agent_id}/contacts/{contact_id}/complete",
            json={"disposition": "resolved"},
        )  # fmt: skip


def test_predictive_campaign_over_dials_and_every_answer_is_served_or_abandoned_in_2s(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, ring_timeout_s=2.0, outbound_queue=QUEUE) as centre:
            scenario = mixed(busy="+1212555012", silent="+1212555013", answer_after_ms=600)
            sipp = await carrier(
                tmp_path, "mixed", scenario, port=centre.trunk_port, calls=len(NUMBERS)
            )
            dialer = centre.dialer
            dialer.add_campaign(load_campaign_text(PREDICTIVE, "spring.yaml"))
            rows = "".join(f"lead-{i},{n},Customer {i}\n" for i, n in enumerate(NUMBERS, 1))
            assert len(dialer.import_list("spring", "id,phone,name\n" + rows).accepted) == 16
            for agent_id in AGENTS:
                await centre.call("POST", f"/agents/{agent_id}/login", json={"ready": True})

            watch, rng = Watch(), random.Random(6)
            dialer.start_campaign("spring")
            runner = dialer.runners["spring"]
            tasks = [asyncio.ensure_future(watch_lines(centre, runner, watch))]
            tasks += [asyncio.ensure_future(agent(centre, a, watch, rng)) for a in AGENTS]
            try:
                done = lambda: sum(runner.figures.outcomes.values()) == len(NUMBERS)  # noqa: E731
                await wait_for(done, 30, "every lead's outcome")
                await wait_for(lambda: not dialer.watches, 5, "the last contacts to end")
            finally:
                watch.stop.set()
                await asyncio.gather(*tasks)
                await dialer.stop_campaign("spring")
            code, output = await sipp.result()
            assert code == 0, output[-3000:]

            # the pacer over-dialled: more lines in flight than free agents
            assert any(lines > free for lines, free in watch.samples)
            assert max(lines for lines, _ in watch.samples) > len(AGENTS)

            outcomes = runner.figures.outcomes
            answered, abandoned = outcomes["answered"], outcomes["abandoned"]
            assert (outcomes["busy"], outcomes["no_answer"]) == (len(BUSY), len(SILENT))
            assert answered + abandoned == len(ANSWERS)
            assert abandoned >= 1 and answered >= len(AGENTS)
            assert sum(outcomes.values()) == len(NUMBERS)

            # served: accepted within 2 s of the 200 OK (the grace is 1.5 s)
            assert len(watch.accepted_at) == answered == runner.figures.connects
            for attempt_id, accepted in watch.accepted_at.items():
                assert 0 < accepted - watch.answered_at[attempt_id] < 2.0
            # abandoned: the safe-harbour prompt started within 2 s, and reached sipp
            harbour = dialer.status("spring")["safe_harbour"]
            assert harbour["played"] == abandoned
            assert 0 < harbour["max_delay_s"] < 2.0
            assert harbour["echoed_packets"] > 0
            assert len(watch.answered_at) == len(ANSWERS)

            # the ledger (US: 30 days) counts exactly these calls
            rate = dialer.status("spring")["abandon_rate"]
            assert rate["counts"] == {
                "connected_human": answered,
                "dropped": abandoned,
                "amd_machine": 0,
            }
            assert rate["rate"] == abandoned / (answered + abandoned)

            # each lead dialled once, with its number's outcome
            seen = sipp.seen()
            assert seen.count("INVITE sip:") == len(NUMBERS)
            leads = dialer.store.leads("spring")
            assert sorted(lead.phone for lead in leads) == sorted(NUMBERS)
            for lead in leads:
                assert len(lead.outcomes) == 1 and lead.outcomes[0] in EXPECTED[lead.phone]
                if lead.outcomes[0] is Outcome.ABANDONED:  # not again for 72 h (Ofcom)
                    assert lead.next_attempt_at is not None
                    assert lead.next_attempt_at >= START + DEFAULT_RETRY[Outcome.ABANDONED].after

            # nobody left reserved or offered
            for agent_id in AGENTS:
                state = await centre.call("GET", f"/agents/{agent_id}")
                assert state["state"] == "ready", state
                assert (await centre.call("GET", f"/agents/{agent_id}/offers"))["offers"] == []

    asyncio.run(main())
