"""An accepted preview's line: dial, and once answered bridge it to the agent's phone.

The contact is the agent's already (they accepted the preview), so there is no
grace to wait out and no safe-harbour prompt: the answered customer is
connected at once (47 CFR 64.1200(a)(7): a live agent within 2 s) and the
agent's registered phone is rung. The agent ending the contact on the desktop
while the line still rings CANCELs it (RFC 3261 §9.1); a line that ends without
an answer ends the contact (the agent wraps it up) and its outcome retries the
lead by the campaign's rules, as in progressive mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING

from dialer.compliance.proof import Verdict
from dialer.leads import Lead, Outcome
from ringway.dialer_live.bridge import AgentPhones
from ringway.dialer_live.line import DialLine
from ringway.dialer_live.outcomes import outcome_for_status
from ringway.dialer_live.runner_parts import ContactWatch
from router.errors import RoutingError

if TYPE_CHECKING:
    from ringway.dialer_live.runner import CampaignRunner

log = logging.getLogger(__name__)
PHONE_FAILED = "dialer: agent phone failed"  # the disposition of a call nobody could take


class PreviewedCalls:
    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner

    def refuse(self, lead: Lead, verdict: Verdict) -> None:
        """A previewed lead the compliance gate refused: the proof is kept; a refusal
        that waiting cannot lift (DNC, withdrawn consent) blocks the lead, any other
        waits until it lapses (`Compliance.hold_refused_lead`: the window's opening,
        the end of a 72/24-hour rule, an hour when a check cannot say)."""
        runner = self.runner
        compliance = runner.parts.compliance
        runner.figures.refused += 1
        runner.parts.on_refused(runner.campaign.name)
        compliance.record_refusal(verdict, runner.parts.wall(), lead)

    def dial(self, lead: Lead, verdict: Verdict, contact_id: str) -> str:
        """The agent accepted the preview (the contact is theirs): dial it now."""
        runner = self.runner
        attempt_id = f"att-{os.urandom(8).hex()}"
        runner.parts.compliance.record_attempt(verdict, attempt_id, lead, guaranteed_agent=True)
        line = runner.line_for(lead)
        runner.lines[attempt_id] = line
        runner.track(attempt_id, lead, line, contact_id)
        runner.dialled_at[attempt_id] = asyncio.get_running_loop().time()
        runner.spawn(self.attempt(attempt_id, lead, line, contact_id))
        return attempt_id

    async def attempt(self, attempt_id: str, lead: Lead, line: DialLine, contact_id: str) -> None:
        runner = self.runner
        loop = asyncio.get_running_loop()
        watch = runner.parts.watches.setdefault(contact_id, ContactWatch())
        outcome = Outcome.FAILED
        try:
            status = await _ring_unless_ended(line, watch)
            ring_s = loop.time() - runner.dialled_at.get(attempt_id, loop.time())
            if status != 200:
                stopped = line.timed_out or watch.finished.is_set()  # by us, not the carrier
                outcome = Outcome.NO_ANSWER if stopped else outcome_for_status(status)
                runner.policy.on_line_ended(needed_agent=False, ring_s=ring_s, now=loop.time())
            else:
                runner.policy.on_line_ended(needed_agent=True, ring_s=ring_s, now=loop.time())
                outcome = await self._connected(attempt_id, contact_id, line)
        except Exception:
            log.exception("dialer %s: preview attempt %s failed", lead.campaign, attempt_id)
        finally:
            runner.dialled_at.pop(attempt_id, None)
            runner.busy_since.pop(attempt_id, None)
            runner.lines.pop(attempt_id, None)
            runner.parts.watches.pop(contact_id, None)
            try:
                line.close()
                self._end_contact(contact_id)
                self._tell(contact_id, lead, outcome)
            finally:
                runner.previews.done(contact_id)
                runner.record(attempt_id, outcome)
                runner.wake()

    async def _connected(self, attempt_id: str, contact_id: str, line: DialLine) -> Outcome:
        runner, parts = self.runner, self.runner.parts
        loop = asyncio.get_running_loop()
        agent_id = self._agent_of(contact_id)
        phones = runner.phones(line)
        phones.on_answer = lambda agent: agent == agent_id
        refused = asyncio.Event()
        phones.on_failure = lambda agent, status: refused.set()
        target = parts.phone_of(agent_id) if agent_id is not None else None
        try:
            if agent_id is not None and target is not None:
                phones.ring(agent_id, target)
                if not await self._phone_answered(phones, refused, line, contact_id):
                    await self._no_agent(contact_id, agent_id, line, phones)
                    return Outcome.ABANDONED
            runner.policy.on_live_answer(abandoned=False, now=loop.time())
            parts.ledger.record(runner.campaign.name, "connected_human", parts.wall().timestamp())
            runner.figures.connects += 1
            started = runner.busy_since[attempt_id] = loop.time()
            await runner.talk(contact_id, line, phones)
        finally:
            runner.figures.relayed.update(phones.close())
        runner.policy.on_handle_done(handle_s=loop.time() - started, now=loop.time())
        return Outcome.ANSWERED

    async def _phone_answered(
        self, phones: AgentPhones, refused: asyncio.Event, line: DialLine, contact_id: str
    ) -> bool:
        """The agent's phone answered within the grace (47 CFR 64.1200(a)(7)(i): a live
        agent within 2 s of the greeting); False when it refused (486, 480, ...), stayed
        silent, the customer hung up or the agent ended the contact meanwhile."""
        watch = self.runner.parts.watches.setdefault(contact_id, ContactWatch())
        waits = [phones.answered_event.wait(), refused.wait(), line.ended.wait()]
        futures = [asyncio.ensure_future(w) for w in [*waits, watch.finished.wait()]]
        loop = asyncio.get_running_loop()
        deadline = (line.answered_at or loop.time()) + self.runner.parts.settings.grace_s
        try:
            await asyncio.wait(
                futures, timeout=max(0.0, deadline - loop.time()), return_when="FIRST_COMPLETED"
            )
        finally:
            for future in futures:
                future.cancel()
        return phones.connected is not None

    async def _no_agent(
        self, contact_id: str, agent_id: str, line: DialLine, phones: AgentPhones
    ) -> None:
        """The answered customer has nobody to talk to: as predictive mode does, the
        safe-harbour prompt, then our BYE (an abandoned call for the rule pack); the
        agent is released (the contact ends and is completed for them)."""
        runner, parts = self.runner, self.runner.parts
        loop = asyncio.get_running_loop()
        phones.close()  # CANCEL a phone still ringing before the prompt
        await runner.safe_harbour(line)
        runner.policy.on_live_answer(abandoned=True, now=loop.time())
        parts.ledger.record(runner.campaign.name, "dropped", parts.wall().timestamp())
        self._end_contact(contact_id)
        with contextlib.suppress(RoutingError):
            await parts.service.complete(agent_id, contact_id, disposition=PHONE_FAILED, notes="")

    def _agent_of(self, contact_id: str) -> str | None:
        with contextlib.suppress(RoutingError):
            return self.runner.parts.service.router.contact(contact_id).agent_id
        return None

    def _end_contact(self, contact_id: str) -> None:
        """The line is over: the agent's contact goes to wrap-up (nothing if ended already)."""
        service = self.runner.parts.service
        with contextlib.suppress(RoutingError):
            service.execute("end", lambda now: service.router.end(contact_id, now))

    def _tell(self, contact_id: str, lead: Lead, outcome: Outcome) -> None:
        agent_id = self._agent_of(contact_id)
        if agent_id is not None:
            frame = {
                "type": "preview_result",
                "contact_id": contact_id,
                "lead_id": lead.id,
                "outcome": outcome.value,
            }
            self.runner.parts.desktop.tell(agent_id, frame)


async def _ring_unless_ended(line: DialLine, watch: ContactWatch) -> int:
    """Ring the line; the agent ending the contact meanwhile CANCELs it."""
    ring = asyncio.ensure_future(line.ring())
    ended = asyncio.ensure_future(watch.finished.wait())
    try:
        await asyncio.wait({ring, ended}, return_when="FIRST_COMPLETED")
    finally:
        ended.cancel()
    if not ring.done():
        line.hang_up()  # CANCEL; the INVITE's final response (487) still ends `ring`
    return await ring
