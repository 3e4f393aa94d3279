"""The agent desktop's way into preview dialing, across a service's campaigns.

    dialer.attach_desktop(hub)                       # the app does this once
    desk.accept("alice", "lead-1");  desk.skip("alice", "lead-1", "wrong person")

Every op names the agent from the caller's token (never from the message), and
only the agent a preview is reserved for may accept or skip it
(``not_your_preview``); no waiting preview is ``no_preview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ringway.dialer_live.preview import Preview, PreviewBook, PreviewError

if TYPE_CHECKING:
    from ringway.dialer_live.runner import CampaignRunner

__all__ = ["PreviewDesk", "PreviewError"]


class PreviewDesk:
    def __init__(self, runners: Mapping[str, CampaignRunner]) -> None:
        self.runners = runners

    def _find(
        self, agent_id: str, lead_id: str, campaign: str | None
    ) -> tuple[PreviewBook, Preview]:
        refused: PreviewError | None = None
        for name, runner in self.runners.items():
            if campaign is not None and name != campaign:
                continue
            try:
                return runner.previews, runner.previews.find(agent_id, lead_id)
            except PreviewError as exc:
                if exc.code == "not_your_preview":
                    refused = exc
        raise refused or PreviewError(
            "no_preview", f"no preview of lead {lead_id} is waiting for you"
        )

    def accept(self, agent_id: str, lead_id: str, campaign: str | None = None) -> dict[str, Any]:
        book, preview = self._find(agent_id, lead_id, campaign)
        return book.accept(preview)

    def skip(
        self, agent_id: str, lead_id: str, reason: str, campaign: str | None = None
    ) -> dict[str, Any]:
        book, preview = self._find(agent_id, lead_id, campaign)
        return book.skip(preview, reason or "skipped")

    def agent_gone(self, agent_id: str) -> None:
        """The agent's desktop disconnected: their waiting preview ends, the lead returns."""
        for runner in self.runners.values():
            runner.previews.agent_gone(agent_id)

    def agent_released(self, agent_id: str) -> None:
        """A routing command is about to withdraw the agent's offer (`RoutingService.releasing`)."""
        for runner in self.runners.values():
            runner.previews.agent_released(agent_id)

    def rows(self) -> list[dict[str, Any]]:
        """Every preview waiting or dialling, for supervisors (wallboard, REST)."""
        return [row for runner in self.runners.values() for row in runner.previews.rows()]
