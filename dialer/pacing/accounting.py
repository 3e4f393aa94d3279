"""Abandonment accounting per rule pack, over the pack's rolling window, per campaign.

The driver records what happened to every answered line:

* ``connected_human`` — a live person reached an agent within the 2 s grace;
* ``connected_machine`` — an answering machine reached an agent (the detector
  said "human"; the agent's disposition says "machine");
* ``dropped`` — answered and classified live (or not classified), but no agent
  within 2 s: the safe-harbour message was played and the line hung up;
* ``amd_machine`` — the answering-machine detector said "machine" and the line
  was released without an agent (some of those were people: false positives).

Rule packs:

* **US** — 47 CFR 64.1200(a)(7) (FCC) and 16 CFR 310.4(b)(4)(i) (FTC TSR):
  abandoned calls <= 3 % of the calls *answered by a live person*, measured
  over a 30-day period for a single campaign (over the campaign when shorter).
  Rate = dropped / (connected_human + dropped): every drop counted as a live
  answer, since nobody can tell (conservative).
* **UK** — Ofcom, "Persistent misuse: a statement of Ofcom's general policy"
  (2016, in force 1 March 2017), Annex on calculating the abandoned call rate:
  <= 3 % of live calls per campaign over any 24 hours (our configurable
  default). The drops are discounted by the share of machines among the calls
  agents answered, and an estimate of the detector's false positives is
  *added* (calls to people it hung up on):

      adjusted = dropped x (1 - machines / (humans + machines))  (Annex 5 method)
      abandoned = adjusted + amd_machine x amd_false_positive_rate
      rate = abandoned / (humans + abandoned)

  Worked example (VICIdial's docs/UK_OFCOM_OUTBOUND_COMPLIANCE.txt): 29 drops,
  9 humans, 7 machines -> 16.3125 / 25.3125 = 64.44 %.

Counts are kept in buckets of ``bucket_s`` seconds with running sums, so a
rate costs O(1) amortised; the window is the buckets that started after
``now - window`` (edges exact to one bucket).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

OUTCOMES = ("connected_human", "connected_machine", "dropped", "amd_machine")
DAY = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RulePack:
    name: str
    window_s: float
    cap: float
    amd_false_positive_rate: float = 0.0  # UK: the detector's measured share of people

    def rate(self, counts: Counts) -> float | None:
        """The pack's abandonment rate for these counts; None when nobody answered live."""
        if self.name == "UK":
            return counts.ofcom_rate(self.amd_false_positive_rate)
        return counts.fcc_rate()


US = RulePack(name="US", window_s=30 * DAY, cap=0.03)  # 47 CFR 64.1200(a)(7)
UK = RulePack(name="UK", window_s=1 * DAY, cap=0.03)  # Ofcom persistent-misuse policy
PACKS = {"US": US, "UK": UK}


def rule_pack(name: str, amd_false_positive_rate: float = 0.0) -> RulePack:
    try:
        pack = PACKS[name.upper()]
    except KeyError:
        raise ValueError(f"unknown rule pack {name!r} (known: US, UK)") from None
    if not 0 <= amd_false_positive_rate < 1:
        raise ValueError(
            f"amd_false_positive_rate must be in [0, 1), got {amd_false_positive_rate}"
        )
    return replace(pack, amd_false_positive_rate=amd_false_positive_rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class Counts:
    connected_human: float = 0
    connected_machine: float = 0
    dropped: float = 0
    amd_machine: float = 0

    def fcc_rate(self) -> float | None:
        live = self.connected_human + self.dropped
        return self.dropped / live if live > 0 else None

    def ofcom_rate(self, amd_false_positive_rate: float) -> float | None:
        agent_answered = self.connected_human + self.connected_machine
        machine_share = self.connected_machine / agent_answered if agent_answered else 0.0
        abandoned = self.dropped * (1 - machine_share)
        abandoned += self.amd_machine * amd_false_positive_rate
        live = self.connected_human + abandoned
        return abandoned / live if live > 0 else None


class _Window:
    """One campaign's buckets and running sums."""

    __slots__ = ("buckets", "sums")

    def __init__(self) -> None:
        self.buckets: deque[tuple[float, list[float]]] = deque()
        self.sums = [0.0] * len(OUTCOMES)


class AbandonmentLedger:
    """Rolling counts per campaign under one rule pack."""

    def __init__(self, pack: RulePack, bucket_s: float = 60.0) -> None:
        if not (bucket_s > 0 and pack.window_s >= bucket_s):
            raise ValueError(f"bucket must be > 0 and <= the window, got {bucket_s}")
        self.pack, self.bucket_s = pack, bucket_s
        self._campaigns: dict[str, _Window] = {}

    def record(self, campaign: str, outcome: str, at: float) -> None:
        try:
            index = OUTCOMES.index(outcome)
        except ValueError:
            raise ValueError(
                f"unknown outcome {outcome!r} (known: {', '.join(OUTCOMES)})"
            ) from None
        window = self._campaigns.setdefault(campaign, _Window())
        start = math.floor(at / self.bucket_s) * self.bucket_s
        if window.buckets and window.buckets[-1][0] > start:
            raise ValueError(f"outcome at {at} is older than the ledger's last bucket")
        if not window.buckets or window.buckets[-1][0] < start:
            window.buckets.append((start, [0.0] * len(OUTCOMES)))
        window.buckets[-1][1][index] += 1
        window.sums[index] += 1

    def counts(self, campaign: str, now: float) -> Counts:
        """The counts of the window ending at ``now``; ``now`` never goes backwards
        (buckets that left the window are forgotten)."""
        window = self._campaigns.get(campaign)
        if window is None:
            return Counts()
        oldest = now - self.pack.window_s
        buckets, sums = window.buckets, window.sums
        while buckets and buckets[0][0] <= oldest:  # that bucket began outside the window
            for i, value in enumerate(buckets.popleft()[1]):
                sums[i] -= value
        return Counts(**dict(zip(OUTCOMES, sums, strict=True)))

    def rate(self, campaign: str, now: float) -> float | None:
        return self.pack.rate(self.counts(campaign, now))

    def within_cap(self, campaign: str, now: float) -> bool:
        rate = self.rate(campaign, now)
        return rate is None or rate <= self.pack.cap
