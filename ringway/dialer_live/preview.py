"""Preview dialing: an agent reads the lead first, then dials it or skips it.

When a preview campaign has a lead due and a free agent (blending applies, as
for the other modes) whose desktop is connected, the lead becomes an
``outbound`` contact in the campaign's queue, offered to that agent: the
router's reservation holds the agent (shown ``reserved``; no inbound offer
reaches them meanwhile). The desktop feed shows that offer as a ``preview``
frame: the lead, its attempts, the customer record when the number matches
one, and the compliance verdict of that moment. No call is placed yet.

* ``preview_accept``: the compliance gate runs again *at the dial* (the window
  may have closed, a DNC entry may have come in). Refused: the offer is
  withdrawn, the lead blocked (DNC, consent) or left for later, and the agent
  gets the reasons. Allowed: the agent takes the contact, the line is dialled
  and, once answered, bridged to the agent's registered phone; the outcome
  (busy, no answer, failed, answered) moves the lead on as in progressive mode.
* ``preview_skip``: the offer is withdrawn, the lead comes back
  ``preview.skip_retry_minutes`` later, the agent is free.
* Silence for ``preview.timeout_s`` (capped below the queue's offer timeout, so
  the router's RONA never fires first): skip or dial, per ``preview.on_timeout``.
* The desktop going away (or the agent going not-ready or logging out, which
  withdraws the offer) returns the lead as it was and frees the agent.

No call is placed before the agent's accept, so a preview call is never
abandoned for want of an agent (47 CFR 64.1200(a)(7) counts it as connected).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dialer.compliance.proof import Verdict
from dialer.errors import DialerError
from dialer.leads import Lead
from ringway.dialer_live.runner_parts import ContactWatch
from ringway.service import NewContact
from router.errors import RoutingError
from router.model import Channel

if TYPE_CHECKING:
    from ringway.dialer_live.runner import CampaignRunner

log = logging.getLogger(__name__)
PREVIEW_KEY = "dialer_preview"  # the contact attribute that makes an offer a preview
OFFER_MARGIN_S = 1.0  # the preview ends this long before the router's offer timeout


class PreviewError(DialerError):
    """A preview op that cannot be done: a websocket error frame (``code``, ``reasons``)."""

    def __init__(self, code: str, message: str, reasons: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code, self.reasons = code, reasons or []


@dataclass(slots=True)
class Preview:
    contact_id: str
    lead: Lead
    agent_id: str
    started: float  # service time (epoch seconds)
    deadline: float
    timer: asyncio.TimerHandle | None = None
    dialling: bool = False
    watch: ContactWatch = field(default_factory=ContactWatch)

    def row(self, now: float) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "lead_id": self.lead.id,
            "campaign": self.lead.campaign,
            "agent": self.agent_id,
            "state": "dialling" if self.dialling else "previewing",
            "since": self.started,
            "expires_in": None if self.dialling else max(0.0, self.deadline - now),
        }


def verdict_view(verdict: Verdict) -> dict[str, Any]:
    return {
        "allowed": verdict.allowed,
        "checks": [
            {"check": r.check, "result": r.result.value, "detail": r.detail}
            for r in verdict.reasons
        ],
    }


def refusals(verdict: Verdict) -> list[dict[str, Any]]:
    return [{"check": r.check, "detail": r.detail} for r in verdict.reasons if r.blocks]


class PreviewBook:
    """The previews of one running campaign."""

    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner
        self.pending: dict[str, Preview] = {}  # contact id -> preview (until the line ends)
        self.opening: dict[str, str] = {}  # lead id -> agent id, contact being created
        self.skipped: dict[str, int] = {}  # why previews ended without a dial
        self._tasks: set[asyncio.Task[None]] = set()

    # -- offering ------------------------------------------------------------------------

    @property
    def busy_leads(self) -> set[str]:
        return {p.lead.id for p in self.pending.values()} | set(self.opening)

    def fill(self, due: list[Lead], free_agents: tuple[str, ...]) -> None:
        """Offer due leads to free agents whose desktops are connected, one each."""
        parts = self.runner.parts
        taken = {p.agent_id for p in self.pending.values()} | set(self.opening.values())
        agents = [a for a in free_agents if a not in taken and parts.desktop.connected(a)]
        busy = self.busy_leads
        for lead, agent_id in zip([x for x in due if x.id not in busy], agents, strict=False):
            self.opening[lead.id] = agent_id
            self._spawn(self._open(lead, agent_id))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, lead: Lead, agent_id: str) -> None:
        try:
            await self._offer(lead, agent_id)
        except Exception:
            log.exception("dialer %s: preview of %s failed", lead.campaign, lead.id)
        finally:
            self.opening.pop(lead.id, None)

    async def _offer(self, lead: Lead, agent_id: str) -> None:
        runner = self.runner
        parts, campaign = runner.parts, runner.campaign
        # The agent is reserved before the dial: a guaranteed agent (Ofcom's 72-hour and
        # AMD 24-hour rules allow a repeat call with one).
        verdict = parts.compliance.check(
            lead.phone, parts.wall(), campaign, lead, guaranteed_agent=True
        )
        if not verdict.allowed:  # not worth an agent's time: the refusal is kept as at a dial
            runner.previewed.refuse(lead, verdict)
            return
        service = parts.service
        contact_id = f"c-{os.urandom(8).hex()}"
        timeout = self._timeout_s()
        now = service.now()
        current = parts.compliance.store.lead(lead.id) or lead
        record = {
            "lead_id": current.id,
            "name": current.name,
            "number": current.phone,
            "customer_id": current.customer_id,
            "attempts": current.attempts,
            "outcomes": [o.value for o in current.outcomes],
            "campaign": campaign.name,
            "deadline": now + timeout,
            "on_timeout": campaign.preview.on_timeout,
            "verdict": verdict_view(verdict),
        }
        new = NewContact(
            channel=Channel.OUTBOUND,
            queue=campaign.queue,
            origin=current.phone,
            id=contact_id,
            preferred_agent=agent_id,
            # The lead is this agent's alone: if they go (not-ready, RONA, disconnect,
            # even on another node or during the customer lookup) the router offers it
            # to nobody else; the preview closes it.
            exclusive_agent=True,
            attributes={
                "campaign": campaign.name,
                "lead_id": current.id,
                "name": current.name,
                PREVIEW_KEY: record,
            },
        )
        await service.create_contact(new)
        # No await from here on: the router's events for this contact reach the watch
        # (through the bus) only after it is registered.
        contact = service.router.contact(contact_id)
        reservation = service.router.store.get_reservation(contact.reservation_id or "")
        preview = Preview(contact_id, current, agent_id, now, now + timeout)
        if reservation is None or not self._may_take(reservation.agent_id):
            # the agent went (not-ready, disconnected) during the customer lookup: the
            # lead stays due, nobody saw anything
            self._close(preview, "no agent took it", tell=False)
            return
        preview.agent_id = reservation.agent_id
        parts.watches[contact_id] = preview.watch
        preview.watch.on_withdrawn = lambda agent: self._withdrawn(contact_id, agent)
        self.pending[contact_id] = preview
        loop = asyncio.get_running_loop()
        preview.timer = loop.call_later(timeout, self._timed_out, contact_id)

    def _may_take(self, agent_id: str) -> bool:
        """The router offered the preview to ``agent_id`` (the chosen one, unless they went
        meanwhile): one of the campaign's agents, with a desktop to read it on?"""
        agents = self.runner.campaign.agents
        allowed = not agents or agent_id in agents
        return allowed and self.runner.parts.desktop.connected(agent_id)

    def _timeout_s(self) -> float:
        runner = self.runner
        queue = runner.parts.service.router.queues.get(runner.campaign.queue or "")
        cap = queue.offer_timeout_s - OFFER_MARGIN_S if queue is not None else None
        timeout = runner.campaign.preview.timeout_s
        return max(0.5, min(timeout, cap)) if cap is not None else timeout

    # -- the agent's answer --------------------------------------------------------------

    def find(self, agent_id: str, lead_id: str) -> Preview:
        for preview in self.pending.values():
            if preview.lead.id == lead_id and not preview.dialling:
                if preview.agent_id != agent_id:
                    raise PreviewError(
                        "not_your_preview", f"lead {lead_id} is previewed by another agent"
                    )
                return preview
        raise PreviewError("no_preview", f"no preview of lead {lead_id} is waiting for you")

    def of_agent(self, agent_id: str) -> Preview | None:
        return next(
            (p for p in self.pending.values() if p.agent_id == agent_id and not p.dialling), None
        )

    def accept(self, preview: Preview) -> dict[str, Any]:
        """Dial now, if the compliance gate still allows it (else `PreviewError`)."""
        runner, parts = self.runner, self.runner.parts
        lead = parts.compliance.store.lead(preview.lead.id) or preview.lead
        at = parts.wall()
        verdict = parts.compliance.check(
            lead.phone, at, runner.campaign, lead, guaranteed_agent=True
        )
        if not verdict.allowed:
            runner.previewed.refuse(lead, verdict)
            self._close(preview, "refused", refusals(verdict))
            raise PreviewError(
                "dial_refused",
                f"lead {lead.id} may not be dialled now: "
                + "; ".join(r["detail"] for r in refusals(verdict)),
                refusals(verdict),
            )
        router = parts.service.router
        try:
            parts.service.execute(
                "accept", lambda now: router.accept(preview.agent_id, preview.contact_id, now)
            )
        except RoutingError as exc:  # the offer went away meanwhile
            self._close(preview, "withdrawn")
            raise PreviewError("no_preview", f"the preview is gone: {exc.message}") from None
        preview.dialling = True
        self._stop_timer(preview)
        attempt_id = runner.previewed.dial(lead, verdict, preview.contact_id)
        return {"lead_id": lead.id, "contact_id": preview.contact_id, "attempt_id": attempt_id}

    def skip(self, preview: Preview, reason: str) -> dict[str, Any]:
        """The lead goes back (due again after the campaign's skip delay), the agent is free."""
        store, campaign = self.runner.parts.compliance.store, self.runner.campaign
        lead = store.lead(preview.lead.id) or preview.lead
        later = self.runner.parts.wall() + campaign.preview.skip_retry
        store.put_lead(replace(lead, next_attempt_at=later))
        self._close(preview, f"skipped: {reason}")
        return {"lead_id": lead.id, "next_attempt_at": later.isoformat(), "reason": reason}

    def _timed_out(self, contact_id: str) -> None:
        preview = self.pending.get(contact_id)
        if preview is None or preview.dialling:
            return
        preview.timer = None
        if self.runner.campaign.preview.on_timeout == "dial":
            with contextlib.suppress(PreviewError):  # a refusal told the agent already
                self.accept(preview)
            return
        self.skip(preview, "timeout")

    def agent_gone(self, agent_id: str) -> None:
        """The agent's desktop went away: free them, the lead is due again at once."""
        preview = self.of_agent(agent_id)
        if preview is not None:
            self._close(preview, "disconnected")

    def agent_released(self, agent_id: str) -> None:
        """The agent is about to go not-ready, log out or be disconnected: end their
        waiting preview *before* the router withdraws the offer, which would put the
        contact back in the queue for the next free agent to be offered (and see it
        withdrawn a moment later). The lead is due again at once."""
        preview = self.of_agent(agent_id)
        if preview is not None:
            self._close(preview, "withdrawn: agent released")

    def _withdrawn(self, contact_id: str, agent_id: str) -> None:
        preview = self.pending.get(contact_id)
        if preview is not None and not preview.dialling and preview.agent_id == agent_id:
            self._close(preview, "withdrawn")  # not-ready, logout, supervisor, RONA

    # -- ending a preview ----------------------------------------------------------------

    def _close(
        self,
        preview: Preview,
        reason: str,
        reasons: list[dict[str, Any]] | None = None,
        *,
        tell: bool = True,
    ) -> None:
        """Withdraw the offer (the agent is free) and forget the preview; says why."""
        self._forget(preview)
        service = self.runner.parts.service
        with contextlib.suppress(RoutingError):  # gone already (cancelled, abandoned)
            if service.router.contact(preview.contact_id).status.is_waiting:
                service.execute(
                    "cancel",
                    lambda now: service.router.cancel(
                        preview.contact_id, now, f"dialer preview: {reason}"
                    ),
                )
        frame: dict[str, Any] = {
            "type": "preview_ended",
            "contact_id": preview.contact_id,
            "lead_id": preview.lead.id,
            "reason": reason,
        }
        if reasons:
            frame["reasons"] = reasons
        if tell:
            key = reason.split(":")[0]
            self.skipped[key] = self.skipped.get(key, 0) + 1
            self.runner.parts.desktop.tell(preview.agent_id, frame)
        self.runner.wake()

    def _forget(self, preview: Preview) -> None:
        self._stop_timer(preview)
        self.pending.pop(preview.contact_id, None)
        self.runner.parts.watches.pop(preview.contact_id, None)

    def _stop_timer(self, preview: Preview) -> None:
        if preview.timer is not None:
            preview.timer.cancel()
            preview.timer = None

    def done(self, contact_id: str) -> None:
        """A previewed line ended (its outcome is recorded by the runner)."""
        preview = self.pending.pop(contact_id, None)
        if preview is not None:
            self._stop_timer(preview)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for preview in [p for p in self.pending.values() if not p.dialling]:
            self._close(preview, "campaign stopped")

    def rows(self) -> list[dict[str, Any]]:
        now = self.runner.parts.service.now()
        return [p.row(now) for p in self.pending.values()]
