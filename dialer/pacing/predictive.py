"""Model-based predictive pacing: dial ahead of agents, keep abandons under the cap.

Every second (and on every outcome) the pacer estimates, for the next answer
horizon (mean ring time of a live answer + the 2 s grace of 47 CFR
64.1200(a)(7)):

* X, the live answers to come: each ringing line answers with its *conditional*
  probability given how long it has rung already (an answer rate q and two ring
  time distributions — of live answers, and of lines that end otherwise —
  estimated online), each new line with q;
* A, the agents to take them: the free ones, plus each busy agent with the
  probability that its call (talk + wrap-up, distribution estimated online)
  ends within the horizon given how long it has lasted already.

It dials the most new lines whose expected abandon share E[(X - A)+] / E[X]
stays under the aim, target x (1 - safety margin) (`dialer.pacing.risk`). The
aim is then corrected by feedback: each live answer nudges a multiplier up
(connected) or down (abandoned) so that the observed share converges to the
aim whatever the model's bias (normal approximation, horizon, non-independent
releases); a stochastic-approximation step with zero drift exactly at the aim.

Compliance guard: when the rule pack's own window rate (US 30 days, UK 24 h,
from `dialer.pacing.accounting`) passes target x (1 - margin / 2), the pacer
falls back to one tied line per free agent until the window recovers (the
"hard limit" of VICIdial's drop-rate control, docs/PREDICTIVE.txt).
"""

from __future__ import annotations

import math
import random

from dialer.pacing.base import Decision, PacingPolicy, PacingSettings, PacingView, register
from dialer.pacing.estimates import (
    DecayingHistogram,
    DecayingMean,
    exponential_survival,
    uniform_survival,
)
from dialer.pacing.risk import Exposure, most_lines_within

BIAS_LIMITS = (0.05, 5.0)  # the feedback may scale the aim, never switch it off or run away
REFRESH = 64  # observations between rebuilds of a distribution's tables (they move slowly)


@register
class Predictive(PacingPolicy):
    name = "predictive"

    def __init__(self, settings: PacingSettings, rng: random.Random) -> None:
        super().__init__(settings, rng)
        s = settings
        weight, half_life = s.prior_weight, s.half_life
        self.connect_rate = DecayingMean(s.prior_connect_rate, weight, half_life)
        ring_limit = s.ring_timeout_s + 15.0  # detection after the answer may add a few s
        self.connect_delay = DecayingHistogram(
            1.0,
            ring_limit,
            uniform_survival(0.0, 2 * s.prior_connect_delay_s),
            weight,
            half_life,
            REFRESH,
        )
        # lines that end without an agent: prior = they ring out at the timeout
        self.other_end = DecayingHistogram(
            1.0,
            ring_limit,
            uniform_survival(s.ring_timeout_s, s.ring_timeout_s + 1),
            weight,
            half_life,
            REFRESH,
        )
        self.handle = DecayingHistogram(
            5.0,
            20 * s.prior_handle_s,
            exponential_survival(s.prior_handle_s),
            weight,
            half_life,
            REFRESH,
        )
        self.handle_mean = DecayingMean(s.prior_handle_s, weight, half_life)
        self.bias = 1.0
        # derived lookup tables, rebuilt when the histograms behind them change
        self._answer_key: tuple[int, int, float] = (-1, -1, -1.0)
        self._answer_table: tuple[list[float], list[float]] = ([], [])
        self._release_key: tuple[int, int] = (-1, -1)
        self._release_table: tuple[list[float], list[float]] = ([], [])

    # ------------------------------------------------------------ decisions
    def decide(self, view: PacingView) -> Decision:
        s = self.settings
        guard = s.target_abandon * (1 - s.safety_margin / 2)
        rate = view.window_abandon_rate
        if rate is not None and rate > guard:
            lines = max(0, view.free_agents)
            return Decision(
                lines=lines,
                per_agent=True,
                reason=f"window abandon rate {rate:.4f} > guard {guard:.4f}: 1 line per free agent",
            )
        exposure = self.exposure(view)
        cap = math.floor(s.max_dial_level * view.logged_in) - len(view.ringing_since)
        aim = s.aim * self.bias
        lines, ratio = most_lines_within(exposure, self.connect_rate.value, aim, max(0, cap))
        return Decision(
            lines=lines,
            per_agent=False,
            expected_abandon_ratio=ratio,
            reason=(
                f"{lines} line(s): expected abandon share {ratio:.4f} <= aim {aim:.4f}, "
                f"answers {exposure.answers_mean:.2f} vs agents {exposure.agents_mean:.2f}"
            ),
        )

    def exposure(self, view: PacingView) -> Exposure:
        """X and A from lookup tables: two list passes, no per-line arithmetic beyond an index."""
        now = view.now
        answer_p, answer_var = self._answer_lookup()
        release_p, release_var = self._release_lookup()
        rung = [int(now - since) for since in view.ringing_since]
        per_bin = 1.0 / self.handle.bin_s
        lasted = [int((now - since) * per_bin) for since in view.busy_since]
        a_mean, a_var = table_sums(answer_p, answer_var, rung)
        r_mean, r_var = table_sums(release_p, release_var, lasted)
        return Exposure(
            answers_mean=a_mean,
            answers_variance=a_var,
            agents_mean=view.free_agents + r_mean,
            agents_variance=r_var,
        )

    def horizon(self) -> float:
        """How far ahead agents count: the mean time left to the answers in flight + grace.

        Lines in flight were dialled at scattered moments, so the time left to
        their answers is the equilibrium residual of the ring-to-answer time,
        E[D^2] / (2 E[D]) (renewal theory's inspection paradox) — about half a
        fresh line's delay. Counting releases over the full delay instead
        promised agents that come too late for the earlier answers; the
        simulation showed the model then under-predicted abandons about 3x.
        """
        return self.connect_delay.equilibrium_residual() + self.settings.grace_s

    def answer_probability(self, rung: float) -> float:
        """P(a line that has rung ``rung`` s still becomes a live answer)."""
        q = self.connect_rate.value
        live = q * self.connect_delay.survival(rung)
        other = (1 - q) * self.other_end.survival(rung)
        total = live + other
        return live / total if total > 0 else 0.0

    def _answer_lookup(self) -> tuple[list[float], list[float]]:
        """answer_probability p and p (1 - p) at every whole second of ring time."""
        self.connect_delay.table()
        self.other_end.table()
        # the rate moves with every dial; a table per 0.1 % of it is plenty
        q = round(self.connect_rate.value, 3)
        key = (self.connect_delay.version, self.other_end.version, q)
        if key != self._answer_key:
            # a line never rings past the histograms' limit (they cover the ring timeout)
            limit = len(self.connect_delay.table()) + 1
            probabilities = [self.answer_probability(float(t)) for t in range(limit)]
            self._answer_table = (probabilities, [p * (1 - p) for p in probabilities])
            self._answer_key = key
        return self._answer_table

    def _release_lookup(self) -> tuple[list[float], list[float]]:
        """P(a call that has lasted e s ends within the horizon) and its variance, per
        handle-time bin of e (memoryless past the data seen)."""
        self.handle.table()
        self.connect_delay.table()
        key = (self.handle.version, self.connect_delay.version)
        if key != self._release_key:
            horizon = self.horizon()
            fallback = 1.0 - math.exp(-horizon / self.handle_mean.value)
            table = self.handle.conditional_within(horizon)
            probabilities = [fallback if math.isnan(p) else p for p in table]
            self._release_table = (probabilities, [p * (1 - p) for p in probabilities])
            self._release_key = key
        return self._release_table

    def next_deadline(self, view: PacingView) -> float | None:
        return view.now + self.settings.reevaluate_s if view.logged_in > 0 else None

    # ------------------------------------------------------------- learning
    def on_line_ended(self, *, needed_agent: bool, ring_s: float, now: float) -> None:
        self.connect_rate.add(1.0 if needed_agent else 0.0)
        (self.connect_delay if needed_agent else self.other_end).add(ring_s)

    def on_handle_done(self, *, handle_s: float, now: float) -> None:
        self.handle.add(handle_s)
        self.handle_mean.add(handle_s)

    def on_live_answer(self, *, abandoned: bool, now: float) -> None:
        self._feedback(1.0 if abandoned else 0.0, weight=1.0)

    def on_detector_release(self, *, now: float) -> None:
        """UK: a release is an abandoned person with the detector's false-positive rate."""
        share = self.settings.amd_false_positive_rate
        if share > 0:
            self._feedback(1.0, weight=share)

    def _feedback(self, abandoned: float, weight: float) -> None:
        """One stochastic-approximation step; zero drift when abandons run at the aim."""
        aim = self.settings.aim
        step = weight * self.settings.feedback_gain * (aim - abandoned) / aim
        low, high = BIAS_LIMITS
        self.bias = min(high, max(low, self.bias * math.exp(step)))


def table_sums(
    values: list[float], variances: list[float], indexes: list[int]
) -> tuple[float, float]:
    """Sum of table entries at ``indexes``; an index past the end reads the last entry
    (a line ringing, or a call lasting, longer than anything the tables cover)."""
    try:
        return sum(map(values.__getitem__, indexes)), sum(map(variances.__getitem__, indexes))
    except IndexError:
        last = len(values) - 1
        clamped = [min(i, last) for i in indexes]
        return sum(map(values.__getitem__, clamped)), sum(map(variances.__getitem__, clamped))
