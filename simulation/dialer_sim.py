"""The dialer in SimPy virtual time: the real pacing policy on a simulated campaign.

The policy object is the production one (`dialer.pacing.create`), asked with
``now = env.now``; the abandonment ledgers are the production
`dialer.pacing.accounting` ones. This module only plays the world: lines ring
and end as `simulation.dialer_model` draws, answers take a free agent or wait
the 2 s grace (47 CFR 64.1200(a)(7)) and are then dropped with the safe-harbour
message, agents talk and wrap up. Nothing of the pacing logic is copied here.

Each simulated day the campaign dials for ``day_s`` seconds from midnight;
what is in flight at the end is still served (agents stay until the last
call), but occupancy counts only the dialling period.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import simpy

from dialer.pacing import Decision, PacingView, create
from dialer.pacing.accounting import UK, US, AbandonmentLedger, rule_pack
from simulation.dialer_model import DAY_S, DialerScenario, Outcome, draw_outcome
from simulation.streams import stream


@dataclass(slots=True)
class DayFigures:
    """One campaign day; ``us_30d`` / ``uk_24h`` are the ledgers' trailing rates at day end."""

    dials: int = 0
    connected_human: int = 0
    connected_machine: int = 0
    dropped: int = 0
    dropped_humans: int = 0  # the truth behind the drops
    amd_machine: int = 0
    amd_humans: int = 0  # people the detector released (false positives)
    unanswered: int = 0  # busy or rang out
    busy_s: float = 0.0  # agents' talk + wrap-up inside the dialling period
    talk_s: float = 0.0  # people talking to agents, inside the dialling period
    agent_s: float = 0.0  # agents logged in x dialling period
    us_30d: float | None = None
    uk_24h: float | None = None

    @property
    def occupancy(self) -> float:
        return self.busy_s / self.agent_s if self.agent_s else 0.0

    @property
    def abandon_rate(self) -> float:
        live = self.connected_human + self.dropped
        return self.dropped / live if live else 0.0


class DialerSim:
    def __init__(self, world: DialerScenario, replication: int = 0) -> None:
        self.world = world
        self.env = simpy.Environment()
        self.replication = replication
        self.logged_in = world.agents  # agents on outbound work (blending moves them)
        seed, purpose = world.seed, f"dialer-{world.mode}"
        self.outcomes = stream(seed, replication, "dialer-outcomes")
        self.talks = stream(seed, replication, "dialer-talk")
        self.policy = create(world.mode, world.settings, stream(seed, replication, purpose))
        self.us = AbandonmentLedger(US)
        self.uk = AbandonmentLedger(rule_pack(UK.name, world.amd_false_positive))
        self.ledger = self.us if world.rule_pack.upper() == "US" else self.uk
        self.free = 0
        self.busy: dict[int, float] = {}  # call id -> connected at
        self.ringing: dict[int, float] = {}  # pooled line id -> dialled at
        self.pending: deque[tuple[int, float, bool]] = deque()  # answers waiting for an agent
        self._ids = 0
        self._open = False
        self._day_start = self._day_end = 0.0
        self._pace_queued = False
        self._armed = math.inf
        self._timer: simpy.Event | None = None
        self.days: list[DayFigures] = []
        self.today = DayFigures()
        self.decisions = 0

    # ------------------------------------------------------------------ days
    def run(self) -> list[DayFigures]:
        self.free = self.world.agents
        for day in range(self.world.days):
            if day:
                self.env.run(until=day * DAY_S)
            self._open_day(day * DAY_S)
            self.env.run(until=day * DAY_S + self.world.day_s)
            self._close_day()
        self.env.run(until=self.world.days * DAY_S)  # serve what is still in flight
        return self.days

    def _open_day(self, start: float) -> None:
        self.today = DayFigures(agent_s=self.world.agents * self.world.day_s)
        self._open, self._day_start = True, start
        self._day_end = start + self.world.day_s
        self.request_pace()

    def _close_day(self) -> None:
        now = self.env.now
        self._open = False
        for since in self.busy.values():  # calls still going count up to the end
            self.today.busy_s += now - max(since, self._day_start)
        self.today.us_30d = self.us.rate(self.world.campaign, now)
        self.today.uk_24h = self.uk.rate(self.world.campaign, now)
        self.days.append(self.today)

    # ---------------------------------------------------------------- pacing
    def later(self, delay: float, action: Callable[[], None]) -> None:
        self.env.timeout(delay).callbacks.append(lambda _: action())

    def request_pace(self) -> None:
        """Ask the policy once per instant, however many things changed at it."""
        if not self._pace_queued:
            self._pace_queued = True
            self.later(0.0, self.pace)

    def view(self) -> PacingView:
        now = self.env.now
        return PacingView(
            now=now,
            free_agents=self.free,
            busy_since=self.busy.values(),
            ringing_since=self.ringing.values(),
            logged_in=self.logged_in,
            window_abandon_rate=self.ledger.rate(self.world.campaign, now),
        )

    def pace(self) -> None:
        self._pace_queued = False
        if not self._open:
            return
        view = self.view()
        self.decisions += 1
        self.dial(self.policy.decide(view))
        deadline = self.policy.next_deadline(view)
        if deadline is not None and deadline < self._armed:
            self._armed = deadline
            timer = self.env.timeout(max(0.0, deadline - self.env.now))
            timer.callbacks.append(self._on_timer)
            self._timer = timer

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer is self._timer:
            self._armed, self._timer = math.inf, None
            self.pace()

    def dial(self, decision: Decision) -> None:
        if decision.per_agent:
            lines = min(decision.lines, self.free)
            self.free -= lines  # reserved: previewing, then waiting on their own line
            for _ in range(lines):
                if decision.delay_s > 0:
                    self.later(decision.delay_s, lambda: self.start_line(tied=True))
                else:
                    self.start_line(tied=True)
        else:
            for _ in range(decision.lines):
                self.start_line(tied=False)

    # ----------------------------------------------------------------- lines
    def start_line(self, *, tied: bool) -> None:
        self._ids += 1
        line, now = self._ids, self.env.now
        outcome = draw_outcome(self.world, self.outcomes)
        self.today.dials += 1
        if not tied:
            self.ringing[line] = now
        self.later(outcome.ends_after, lambda: self.line_ended(line, now, tied, outcome))

    def line_ended(self, line: int, dialled: float, tied: bool, outcome: Outcome) -> None:
        now = self.env.now
        self.ringing.pop(line, None)
        self.policy.on_line_ended(needed_agent=outcome.needs_agent, ring_s=now - dialled, now=now)
        if outcome.amd_released:
            self.policy.on_detector_release(now=now)
            self._record("amd_machine", now)
            self.today.amd_machine += 1
            self.today.amd_humans += outcome.human
        elif not outcome.needs_agent:
            self.today.unanswered += 1
        if not outcome.needs_agent:
            if tied:
                self.free += 1
            self.request_pace()
            return
        if tied:
            self.connect(outcome.human, now)
        elif self.free > 0:
            self.free -= 1
            self.connect(outcome.human, now)
        else:
            self.pending.append((line, now, outcome.human))
            self.later(self.world.settings.grace_s, lambda: self.expire(line))

    def expire(self, line: int) -> None:
        """The grace is over: no agent came, play the safe-harbour message and hang up."""
        if not self.pending or self.pending[0][0] != line:
            return  # an agent took it in time
        _, _, human = self.pending.popleft()
        now = self.env.now
        self._record("dropped", now)
        self.policy.on_live_answer(abandoned=True, now=now)
        self.today.dropped += 1
        self.today.dropped_humans += human

    # ---------------------------------------------------------------- agents
    def connect(self, human: bool, now: float) -> None:
        self._ids += 1
        call = self._ids
        self.busy[call] = now
        if human:
            self._record("connected_human", now)
            self.policy.on_live_answer(abandoned=False, now=now)
            self.today.connected_human += 1
            talk = self.talks.expovariate(1.0 / self.world.talk_mean_s)
            self._count_talk(now, talk)
        else:
            self._record("connected_machine", now)
            self.today.connected_machine += 1
            talk = self.world.machine_handle_s
        self.later(talk + self.world.wrap_s, lambda: self.release(call))

    def release(self, call: int) -> None:
        now = self.env.now
        since = self.busy.pop(call)
        self.policy.on_handle_done(handle_s=now - since, now=now)
        self._count_busy(since, now)
        if self.pending:
            _, _, human = self.pending.popleft()
            self.connect(human, now)
        else:
            self.agent_freed()

    def agent_freed(self) -> None:
        """An agent finished an outbound call and nobody waits: free for the pacer."""
        self.free += 1
        self.request_pace()

    # -------------------------------------------------------------- counting
    def _record(self, outcome: str, now: float) -> None:
        self.us.record(self.world.campaign, outcome, now)
        self.uk.record(self.world.campaign, outcome, now)

    def _count_busy(self, since: float, until: float) -> None:
        if self._open or until <= self._day_end:
            start = max(since, self._day_start)
            self.today.busy_s += max(0.0, min(until, self._day_end) - start)

    def _count_talk(self, start: float, talk: float) -> None:
        if start < self._day_end:
            self.today.talk_s += min(start + talk, self._day_end) - start
