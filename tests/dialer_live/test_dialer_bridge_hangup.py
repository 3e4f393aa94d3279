"""The customer hangs up while the agent's phone still rings: noticed at the BYE.

sipp plays the carrier (answers, hangs up 300 ms later) and alice's desk phone
(rings until CANCELled). Before the fix the offer stood until the 1.5 s grace
ran out; now the customer's BYE withdraws it at once: the contact is cancelled
with the reason ``dialer: customer hung up``, the phone gets its CANCEL well
inside the grace and alice is free again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dialer_kit import carrier, never_answering, running_centre
from peer_kit import free_port, needs_sipp, wait_for
from test_dialer_bridge import ENV, customer_hangs_up, dial_one, register_alice, telephony_port

from dialer.leads import LeadStatus
from router import events as ev

pytestmark = needs_sipp


def test_the_customers_bye_while_the_phone_rings_releases_the_agent_at_once(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            phone = await carrier(tmp_path, "phone", never_answering(), port=phone_port)
            edge = f"127.0.0.1:{telephony_port(centre)}"  # where the carrier's BYE goes
            line = await carrier(
                tmp_path, "carrier", customer_hangs_up(300), port=centre.trunk_port, args=(edge,)
            )
            events = centre.bundle.service.subscribe()
            seen: list[ev.Event] = []

            async def collect() -> None:
                async for event in events:
                    seen.append(event)

            collector = asyncio.get_running_loop().create_task(collect())
            try:
                await dial_one(centre)
                line_code, line_out = await line.result()
                assert line_code == 0, line_out[-3000:]
                phone_code, phone_out = await phone.result()
                assert phone_code == 0, phone_out[-3000:]  # the CANCEL reached the phone

                def cancelled() -> list[ev.ContactCancelled]:
                    return [e for e in seen if isinstance(e, ev.ContactCancelled)]

                await wait_for(lambda: bool(cancelled()), 5, "the contact's cancel")
                offered = next(e for e in seen if isinstance(e, ev.ContactOffered))
                gone = cancelled()[0]
                assert gone.reason == "dialer: customer hung up"
                # the BYE came 0.3 s after the answer; the grace would have held 1.5 s
                assert gone.at - offered.at < 1.2, (offered.at, gone.at)
                await wait_for(
                    lambda: centre.bundle.service.router.agent("alice").state.value == "ready",
                    5,
                    "alice free",
                )
                lead = centre.dialer.store.lead("lead-1")
                assert lead is not None and lead.status is not LeadStatus.DIALLING
                assert centre.dialer.watches == {}
            finally:
                collector.cancel()
                await phone.stop()
                await line.stop()

    asyncio.run(main())
