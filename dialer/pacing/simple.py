"""Preview and progressive dialing: one line per free agent, the agent reserved for it.

Because every line has its own agent waiting, an answer is never abandoned for
want of an agent (only an answering-machine detector's mistakes can drop a live
person, which the UK accounting estimates). The price is idle agents during
every ring, busy signal and answering machine: the baseline the predictive
pacer is measured against.
"""

from __future__ import annotations

from dialer.pacing.base import Decision, PacingPolicy, PacingView, register


@register
class Progressive(PacingPolicy):
    """Dial as soon as an agent is free: exactly one line per free agent."""

    name = "progressive"

    def decide(self, view: PacingView) -> Decision:
        lines = max(0, view.free_agents)
        return Decision(lines=lines, per_agent=True, reason=f"{lines} free agent(s), 1 line each")


@register
class Preview(PacingPolicy):
    """The agent first reads the lead's record (``preview_s``), then the line is dialled."""

    name = "preview"

    def decide(self, view: PacingView) -> Decision:
        lines = max(0, view.free_agents)
        return Decision(
            lines=lines,
            per_agent=True,
            delay_s=self.settings.preview_s,
            reason=f"{lines} free agent(s) preview, then 1 line each",
        )
