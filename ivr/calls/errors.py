"""Call control's exception tree (STYLE.md habit 7)."""

from __future__ import annotations


class CallControlError(Exception):
    """Base of what call control raises."""


class RoutingRefused(CallControlError):
    """The router would not queue the call (unknown queue, closed, full)."""
