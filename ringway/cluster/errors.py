"""What a cluster node answers when it cannot run a command: HTTP 503, nothing applied.

They are `RoutingError`s so the API's one error handler turns them into
``{"error": {"code", "message"}}`` with the status; a client may retry them.
"""

from __future__ import annotations

from router.errors import RoutingError


class ClusterError(RoutingError):
    code = "cluster_error"
    status = 503


class NotLeader(ClusterError):
    """This node does not route (it follows, or is between terms)."""

    code = "not_leader"


class ClusterUnavailable(ClusterError):
    """Redis or the leader cannot be reached in time; the command was not applied."""

    code = "cluster_unavailable"


class RemoteError(RoutingError):
    """An error the leader raised for a forwarded command, with its code and status."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class Fenced(Exception):
    """A newer leader holds the epoch: this node's term is over (its writes were refused)."""


class RedisUnreachable(ValueError):
    """Redis cannot be reached at start-up; ``ringway serve`` prints it and exits 2."""
