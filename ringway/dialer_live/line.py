"""One dial attempt on the SIP edge: the INVITE to the trunk, its RTP port, its end.

    line = DialLine(edge, target="sip:+12125550100@trunk:5070", caller_id="+12125550199",
                    host="127.0.0.1", rng=rng, ring_timeout_s=25)
    status = await line.ring()        # 200, or the final status (486, 487, 408, ...)
    line.play(pcm); await line.played();  line.hang_up()

The caller ID goes in From and in P-Asserted-Identity (RFC 3325 §9.1), as
47 CFR 64.1601(e) asks of telemarketers. An unanswered line is CANCELled after
``ring_timeout_s`` (RFC 3261 §9.1); the outcome is then "no answer" whatever
status the CANCEL produces (487 normally).
"""

from __future__ import annotations

import asyncio
import random

from ivr.calls.media import MediaLeg
from ivr.calls.outbound import LegState, OutboundCall
from ivr.edge import SipEdge
from ivr.sip.offer_answer import Negotiated

RING_TIMEOUT_STATUS = 408  # what a ring timeout is reported as (maps to no answer)
PLAYBACK_LIMIT_S = 30.0  # a safe-harbour prompt longer than this is cut off


class DialLine:
    """A UAC leg and its media; also the leg's `LegObserver`."""

    def __init__(
        self,
        edge: SipEdge,
        *,
        target: str,
        caller_id: str,
        host: str,
        rng: random.Random,
        ring_timeout_s: float,
    ) -> None:
        self.edge, self.target, self.caller_id = edge, target, caller_id
        self.host, self.rng, self.ring_timeout_s = host, rng, ring_timeout_s
        self.media = MediaLeg(host, rng)
        self.call: OutboundCall | None = None
        self.started_at: float | None = None  # loop time the INVITE left (for the CDR)
        self.answered_at: float | None = None
        self.greeted_at: float | None = None  # the machine detector let the line through
        self.status: int | None = None  # the INVITE's final status
        self.their_bye = False  # the customer's side ended the answered call
        self.timed_out = False
        self._final: asyncio.Future[int] | None = None
        self.ended = asyncio.Event()  # the answered call is over (either side)
        self._idle = asyncio.Event()
        self._hung_up = False

    @property
    def call_id(self) -> str | None:
        return self.call.call_id if self.call is not None else None

    async def ring(self) -> int:
        """Dial and wait: 200 when answered, else the final status (408 on ring timeout)."""
        loop = asyncio.get_running_loop()
        await self.media.open()
        self._final = loop.create_future()
        identity = f"<sip:{self.caller_id}@{self.host}>"
        self.call = OutboundCall(
            self.edge,
            target=self.target,
            caller=identity,
            local=self.media.local(),
            observer=self,
            rng=self.rng,
            headers=(("P-Asserted-Identity", identity),),
        )
        self.call.start()
        self.started_at = loop.time()
        timer = loop.call_later(self.ring_timeout_s, self._ring_timeout)
        try:
            return await self._final
        finally:
            timer.cancel()

    def _ring_timeout(self) -> None:
        self.timed_out = True
        self.hang_up()
        self._settle(RING_TIMEOUT_STATUS)

    def _settle(self, status: int) -> None:
        if self._final is not None and not self._final.done():
            self.status = status
            self._final.set_result(status)

    # -- LegObserver ---------------------------------------------------------------------

    def on_ringing(self) -> None:
        pass

    def on_answered(self, media: Negotiated) -> None:
        if self.timed_out:  # the 2xx crossed our CANCEL: end the call (§9.1, §15)
            if self.call is not None:
                self.call.hang_up()
            return
        self.answered_at = asyncio.get_running_loop().time()
        self.media.connect(media)
        self._settle(200)

    @property
    def live_at(self) -> float | None:
        """When the 2 s grace starts: the called person's completed greeting
        (47 CFR 64.1200(a)(7)(i)), i.e. the detector's verdict, else the answer."""
        return self.greeted_at if self.greeted_at is not None else self.answered_at

    def greeted(self) -> None:
        """The detector heard a person (or could not tell): the grace starts now."""
        self.greeted_at = asyncio.get_running_loop().time()

    def on_failed(self, status: int) -> None:
        self._settle(status)
        self.ended.set()

    def on_ended(self) -> None:
        self.their_bye = self.their_bye or not self._hung_up
        self.ended.set()

    def on_refer(self, refer_to: str) -> int:
        return 403  # a dialled customer does not transfer our line

    # -- after the answer ----------------------------------------------------------------

    def play(self, pcm: bytes) -> None:
        self._idle.clear()
        self.media.on_idle = self._idle.set
        self.media.play(pcm)

    async def played(self) -> None:
        """Until the prompt has gone out (or the far end hung up first)."""
        waiter = asyncio.ensure_future(self._idle.wait())
        ended = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait(
                {waiter, ended}, timeout=PLAYBACK_LIMIT_S, return_when="FIRST_COMPLETED"
            )
        finally:
            waiter.cancel()
            ended.cancel()

    @property
    def packets_sent(self) -> int:
        return self.media.played

    @property
    def packets_received(self) -> int:
        return self.media.endpoint.received

    def hang_up(self) -> None:
        """BYE when answered, CANCEL (once: §9.1) while ringing, nothing once over."""
        call = self.call
        if call is not None and not self._hung_up:
            self._hung_up = True
            if call.state is LegState.ANSWERED:
                call.hang_up()
            else:
                call.cancel()
        self.ended.set()

    def close(self) -> None:
        self.hang_up()
        self.media.close()
