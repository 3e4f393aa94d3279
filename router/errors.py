"""The routing core's exception tree.

Every error a caller can cause is a `RoutingError` subclass carrying a `code` the
edges map to a status (HTTP 404/409/422, websocket error frame, CLI exit 2). The
core never half-applies a command: it validates first and raises before it
changes anything, so an error always leaves state as it was.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base of every error the routing core raises on bad input."""

    code = "routing_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RoutingError):
    code = "not_found"
    status = 404


class UnknownQueue(NotFound):
    code = "unknown_queue"


class UnknownAgent(NotFound):
    code = "unknown_agent"


class UnknownContact(NotFound):
    code = "unknown_contact"


class InvalidConfig(RoutingError):
    """A queue, skill expression or agent definition that cannot work."""

    code = "invalid_config"
    status = 422


class InvalidSkillExpression(InvalidConfig):
    code = "invalid_skill_expression"


class Conflict(RoutingError):
    """The command is well formed but the current state does not allow it."""

    code = "conflict"
    status = 409


class IllegalTransition(Conflict):
    code = "illegal_transition"


class NotYourOffer(Conflict):
    """An agent acted on an offer that belongs to someone else (or no longer exists)."""

    code = "not_your_offer"
    status = 403


class QueueFull(Conflict):
    code = "queue_full"
    status = 503


class DuplicateContact(Conflict):
    code = "duplicate_contact"
