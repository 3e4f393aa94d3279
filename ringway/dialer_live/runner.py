"""One running campaign: ask the pacer how many lines, check each lead, dial, route answers.

Every attempt passes `Compliance.attempt` at the moment it is dialled, so a
number put on the DNC list while the campaign runs is refused (and its lead
blocked) before any INVITE leaves. An answered line becomes an ``outbound``
contact in the campaign's queue; if no agent has accepted it within the grace
(2 s, 47 CFR 64.1200(a)(7)(i)), the contact is withdrawn, the campaign's
safe-harbour prompt is played (seller and callback number, (a)(7)(i)(A)) and
the line is hung up: an abandoned call for the rule pack's accounting. The
customer's BYE inside the grace withdraws the offer at once.

A preview campaign dials nothing here: each free agent is offered a lead to
read first (`ringway.dialer_live.preview`) and their accept dials it
(`ringway.dialer_live.previewed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from dialer.campaign import Campaign
from dialer.leads import Lead, Outcome
from dialer.pacing import PacingPolicy, PacingView
from ringway.dialer_live.bridge import AgentPhones
from ringway.dialer_live.dial_record import DialFacts, file_cdr
from ringway.dialer_live.line import DialLine
from ringway.dialer_live.outcomes import outcome_for_status
from ringway.dialer_live.pool import campaign_pool
from ringway.dialer_live.preview import PreviewBook
from ringway.dialer_live.previewed import PreviewedCalls
from ringway.dialer_live.runner_parts import ContactWatch, Figures, RunnerParts
from ringway.dialer_live.talk import talk, wire_phones
from ringway.service import NewContact
from router.errors import RoutingError
from router.model import Channel

__all__ = ["CampaignRunner", "ContactWatch", "Figures", "RunnerParts"]
log = logging.getLogger(__name__)
ECHO_TAIL_S = 0.1  # after the prompt, before the BYE: the last packets' way back


class CampaignRunner:
    def __init__(self, campaign: Campaign, policy: PacingPolicy, parts: RunnerParts) -> None:
        self.campaign, self.policy, self.parts = campaign, policy, parts
        self.figures = Figures()
        self.lines: dict[str, DialLine] = {}  # attempt id -> line
        self.dialled_at: dict[str, float] = {}  # attempt id -> when its INVITE left
        self.tied: set[str] = set()  # ringing lines that hold a free agent (per_agent)
        self.pooled_since: dict[str, float] = {}  # ringing lines any agent may take
        self.previews = PreviewBook(self)  # leads agents read before the dial (preview mode)
        self.previewed = PreviewedCalls(self)  # and their lines once accepted
        self.busy_since: dict[str, float] = {}
        self.facts: dict[str, DialFacts] = {}  # attempt id -> what its CDR will say
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._attempts: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._loop(), name=f"dialer-{self.campaign.name}"
            )

    async def stop(self) -> None:
        """Stop dialling new lines; lines in flight are hung up (their outcomes recorded)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.previews.stop()
        for line in list(self.lines.values()):
            line.hang_up()
        if self._attempts:
            await asyncio.wait(self._attempts, timeout=5)

    def wake(self) -> None:
        self._wake.set()

    # -- the pacing loop -----------------------------------------------------------------

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            now = loop.time()
            try:
                self._tick(now, now - last)
            except Exception:  # one bad tick must not stop the campaign
                log.exception("dialer %s: tick failed", self.campaign.name)
            last = now
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a stop()'s cancel
            # when the wake-up lands at the same instant, and the loop then runs forever
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.parts.settings.reevaluate_s):
                    await self._wake.wait()

    def _tick(self, now: float, elapsed: float) -> None:
        pool = campaign_pool(self.parts.service, self.campaign, self.parts.blender)
        ready, logged_in = pool.free, pool.logged_in
        figures = self.figures
        figures.held_for_inbound = pool.held_for_inbound
        figures.agent_seconds += logged_in * elapsed
        view = PacingView(
            now=now,
            free_agents=max(0, ready - len(self.tied) - len(self.previews.opening)),
            busy_since=list(self.busy_since.values()),
            ringing_since=list(self.pooled_since.values()),
            logged_in=logged_in,
            window_abandon_rate=self.parts.ledger.rate(self.campaign.name, self._stamp()),
        )
        decision = self.policy.decide(view)
        figures.last_reason = decision.reason
        wanted = min(decision.lines, self.parts.settings.max_lines_per_tick)
        if wanted > 0:
            at = self.parts.wall()
            busy = self.previews.busy_leads
            due = self.parts.compliance.store.due_leads(self.campaign.name, at, wanted + len(busy))
            due = [x for x in due if x.id not in busy][:wanted]
            if self.campaign.mode == "preview":  # the agent reads the lead, then dials
                self.previews.fill(due, pool.free_ids)
            else:
                for lead in due:
                    self._try(lead, at, now, tied=decision.per_agent)
        figures.in_flight = len(self.lines)
        figures.dial_level = len(self.lines) / logged_in if logged_in else 0.0

    def _stamp(self) -> float:
        return self.parts.wall().timestamp()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)
        return task

    def _try(self, lead: Lead, at: datetime, now: float, *, tied: bool) -> None:
        attempt_id = f"att-{os.urandom(8).hex()}"
        verdict = self.parts.compliance.attempt(attempt_id, lead.phone, at, self.campaign, lead)
        if not verdict.allowed:  # never dialled; the proof says why
            self.figures.refused += 1
            self.parts.on_refused(self.campaign.name)
            return
        line = self.line_for(lead)
        self.lines[attempt_id] = line
        self.track(attempt_id, lead, line)
        self.dialled_at[attempt_id] = now
        if tied:
            self.tied.add(attempt_id)
        else:
            self.pooled_since[attempt_id] = now
        self.spawn(self._attempt(attempt_id, lead, line))

    def track(
        self, attempt_id: str, lead: Lead, line: DialLine, contact: str | None = None
    ) -> None:
        """Keep the attempt's facts for its call detail record (filed by `record`)."""
        self.facts[attempt_id] = DialFacts(
            attempt_id, self.campaign.name, self.campaign.queue, lead, line, contact
        )

    def line_for(self, lead: Lead) -> DialLine:
        settings = self.parts.settings
        return DialLine(
            self.parts.edge,
            target=f"sip:{lead.phone}@{settings.trunk}",
            caller_id=self.campaign.caller_id or "anonymous",
            host=self.parts.host,
            rng=self.parts.rng,
            ring_timeout_s=settings.ring_timeout_s,
        )

    # -- one attempt ---------------------------------------------------------------------

    async def _attempt(self, attempt_id: str, lead: Lead, line: DialLine) -> None:
        loop = asyncio.get_running_loop()
        outcome = Outcome.FAILED
        try:
            status = await line.ring()
            self._stopped_ringing(attempt_id)
            ring_s = loop.time() - self.dialled_at.get(attempt_id, loop.time())
            if status != 200:
                outcome = Outcome.NO_ANSWER if line.timed_out else outcome_for_status(status)
                self.policy.on_line_ended(needed_agent=False, ring_s=ring_s, now=loop.time())
            else:
                outcome = await self._answered(attempt_id, lead, line, ring_s)
        except Exception:
            log.exception("dialer %s: attempt %s failed", self.campaign.name, attempt_id)
        finally:
            self._stopped_ringing(attempt_id)
            self.dialled_at.pop(attempt_id, None)
            self.busy_since.pop(attempt_id, None)
            self.lines.pop(attempt_id, None)
            try:
                line.close()
            finally:
                self.record(attempt_id, outcome)
                self.wake()

    def _stopped_ringing(self, attempt_id: str) -> None:
        self.tied.discard(attempt_id)
        self.pooled_since.pop(attempt_id, None)

    def record(self, attempt_id: str, outcome: Outcome) -> None:
        self.figures.outcomes[outcome.value] += 1
        facts = self.facts.pop(attempt_id, None)
        if facts is not None:
            file_cdr(self.parts.service, self.parts.on_dialled, facts, outcome)
        try:
            self.parts.compliance.record_outcome(
                attempt_id, outcome, self.parts.wall(), self.campaign
            )
        except (KeyError, ValueError):
            log.exception("dialer %s: outcome of %s not recorded", self.campaign.name, attempt_id)
        self.parts.on_outcome(self.campaign.name, outcome)

    async def _answered(
        self, attempt_id: str, lead: Lead, line: DialLine, ring_s: float
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        ledger, name = self.parts.ledger, self.campaign.name
        if await self.parts.detector.is_machine(line.media.endpoint):
            self.policy.on_line_ended(needed_agent=False, ring_s=ring_s, now=loop.time())
            self.policy.on_detector_release(now=loop.time())
            ledger.record(name, "amd_machine", self._stamp())
            line.hang_up()
            return Outcome.MACHINE
        line.greeted()  # the 2 s grace runs from the end of the greeting
        self.policy.on_line_ended(needed_agent=True, ring_s=ring_s, now=loop.time())
        if line.ended.is_set():  # hung up while the detector listened: offer no agent
            return self._dropped()
        phones = self.phones(line)
        try:
            return await self._connect(attempt_id, lead, line, phones)
        finally:
            relayed = phones.close()
            self.figures.relayed.update(relayed)

    def _dropped(self) -> Outcome:
        """A live answer no agent took: abandoned, in the pacer and the ledger."""
        self.policy.on_live_answer(abandoned=True, now=asyncio.get_running_loop().time())
        self.parts.ledger.record(self.campaign.name, "dropped", self._stamp())
        return Outcome.ABANDONED

    def phones(self, line: DialLine) -> AgentPhones:
        parts = self.parts
        phones = AgentPhones(
            parts.edge,
            line,
            host=parts.host,
            rng=parts.rng,
            on_answer=lambda agent_id: False,  # set by `_route` once the contact exists
            on_failure=lambda agent_id, status: None,
        )
        for facts in self.facts.values():
            if facts.line is line:
                facts.phones = phones
                if parts.recording is not None:
                    parts.recording.wire(phones, self.campaign.recording, facts)
        return phones

    async def _connect(
        self, attempt_id: str, lead: Lead, line: DialLine, phones: AgentPhones
    ) -> Outcome:
        loop = asyncio.get_running_loop()
        ledger, name = self.parts.ledger, self.campaign.name
        contact_id = await self._route(attempt_id, lead, line, phones)
        if contact_id is None:
            phones.close()  # CANCEL phones still ringing before the prompt
            await self.safe_harbour(line)
            return self._dropped()
        self.policy.on_live_answer(abandoned=False, now=loop.time())
        ledger.record(name, "connected_human", self._stamp())
        self.figures.connects += 1
        started = loop.time()
        self.busy_since[attempt_id] = started
        await self.talk(contact_id, line, phones)
        self.policy.on_handle_done(handle_s=loop.time() - started, now=loop.time())
        return Outcome.ANSWERED

    async def _route(
        self, attempt_id: str, lead: Lead, line: DialLine, phones: AgentPhones
    ) -> str | None:
        """The contact id once an agent accepted within the grace, else None (withdrawn).

        An offered agent with a registered phone is rung (as inbound calls are); the
        phone's answer is the accept, its refusal or silence a RONA. An agent without
        one accepts on the desktop and talks on whatever the desktop offers."""
        parts, queue = self.parts, self.campaign.queue
        if queue is None:
            return None
        contact_id = f"c-{os.urandom(8).hex()}"
        if attempt_id in self.facts:
            self.facts[attempt_id].contact_id = contact_id
        watch = parts.watches[contact_id] = ContactWatch()
        self._wire_phones(contact_id, watch, phones)
        new = NewContact(
            channel=Channel.OUTBOUND,
            queue=queue,
            origin=lead.phone,
            id=contact_id,
            attributes={
                "campaign": self.campaign.name,
                "lead_id": lead.id,
                "attempt_id": attempt_id,
                "sip_call_id": line.call_id or "",
                "name": lead.name,
            },
        )
        deadline = (line.live_at or asyncio.get_running_loop().time()) + parts.settings.grace_s
        if await _first(self._accepted(new, watch), line.ended.wait(), _remaining(deadline)):
            return contact_id
        why = "dialer: customer hung up" if line.ended.is_set() else "dialer: no agent in 2 s"
        try:  # withdraw the offer; an accept that raced us wins (Conflict: not waiting)
            parts.service.execute(
                "cancel", lambda now: parts.service.router.cancel(contact_id, now, why)
            )
        except RoutingError:
            if watch.accepted.is_set():
                return contact_id
        parts.watches.pop(contact_id, None)
        return None

    def _wire_phones(self, contact_id: str, watch: ContactWatch, phones: AgentPhones) -> None:
        wire_phones(self, contact_id, watch, phones)

    async def _accepted(self, new: NewContact, watch: ContactWatch) -> None:
        await self.parts.service.create_contact(new)
        await watch.accepted.wait()

    async def talk(self, contact_id: str, line: DialLine, phones: AgentPhones) -> None:
        await talk(self, contact_id, line, phones)

    async def safe_harbour(self, line: DialLine) -> None:
        prompt = self.campaign.safe_harbour_prompt
        if prompt and not line.ended.is_set():  # nobody to hear it after the customer's BYE
            loop = asyncio.get_running_loop()
            line.play(self.parts.prompts.get(prompt))
            delay = loop.time() - (line.live_at or loop.time())
            await line.played()
            await asyncio.sleep(ECHO_TAIL_S)
            figures = self.figures
            figures.safe_harbour_played += 1
            figures.safe_harbour_max_delay_s = max(figures.safe_harbour_max_delay_s, delay)
            figures.safe_harbour_echoed += line.packets_received
        line.hang_up()


async def _first(
    accepted: Coroutine[Any, Any, None], hung_up: Coroutine[Any, Any, Any], timeout: float
) -> bool:
    """True when ``accepted`` finished first; False on the customer's BYE (noticed at
    once, so a ringing agent phone is released without waiting out the grace), on
    the timeout, or when the contact could not be created."""
    tasks = [asyncio.ensure_future(accepted), asyncio.ensure_future(hung_up)]
    try:
        done, _ = await asyncio.wait(tasks, timeout=timeout, return_when="FIRST_COMPLETED")
    finally:
        for task in tasks:
            task.cancel()
    first = tasks[0]
    if first not in done or first.cancelled():
        return False
    error = first.exception()
    if error is not None and not isinstance(error, RoutingError):
        raise error
    return error is None


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - asyncio.get_running_loop().time())
