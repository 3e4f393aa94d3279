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
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from dialer.compliance.proof import Verdict
from dialer.leads import Lead, Outcome, block
from ringway.dialer_live.line import DialLine
from ringway.dialer_live.outcomes import outcome_for_status
from ringway.dialer_live.runner_parts import ContactWatch
from router.errors import RoutingError

if TYPE_CHECKING:
    from ringway.dialer_live.runner import CampaignRunner

log = logging.getLogger(__name__)
REFUSED_RETRY = timedelta(minutes=15)  # a previewed lead refused for now (window, caps)


class PreviewedCalls:
    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner

    def refuse(self, lead: Lead, verdict: Verdict) -> None:
        """A previewed lead the compliance gate refused: the proof is kept; a DNC entry
        or withdrawn consent blocks the lead, anything else (window, caps) waits."""
        runner = self.runner
        compliance = runner.parts.compliance
        compliance.record_denial(verdict)
        runner.figures.refused += 1
        runner.parts.on_refused(runner.campaign.name)
        current = compliance.store.lead(lead.id) or lead
        if any(r.blocks and r.final for r in verdict.reasons):
            compliance.store.put_lead(block(current))
        else:
            later = runner.parts.wall() + REFUSED_RETRY
            compliance.store.put_lead(replace(current, next_attempt_at=later))

    def dial(self, lead: Lead, verdict: Verdict, contact_id: str) -> str:
        """The agent accepted the preview (the contact is theirs): dial it now."""
        runner = self.runner
        attempt_id = f"att-{os.urandom(8).hex()}"
        runner.parts.compliance.record_attempt(verdict, attempt_id, lead)
        line = runner.line_for(lead)
        runner.lines[attempt_id] = line
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
        target = parts.phone_of(agent_id) if agent_id is not None else None
        if agent_id is not None and target is not None:
            phones.ring(agent_id, target)
        runner.policy.on_live_answer(abandoned=False, now=loop.time())
        parts.ledger.record(runner.campaign.name, "connected_human", parts.wall().timestamp())
        runner.figures.connects += 1
        started = runner.busy_since[attempt_id] = loop.time()
        try:
            await runner.talk(contact_id, line, phones)
        finally:
            runner.figures.relayed.update(phones.close())
        runner.policy.on_handle_done(handle_s=loop.time() - started, now=loop.time())
        return Outcome.ANSWERED

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
