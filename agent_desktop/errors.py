"""The desktop gateway's errors and websocket close codes.

A `DesktopError` becomes an error frame ``{"type": "error", "code", "message",
"ref"}`` and the connection stays open; only the handshake failures below close
it, with a 4xxx code that mirrors the HTTP status (RFC 6455 §7.4.2 leaves
4000-4999 to applications).
"""

from __future__ import annotations

CLOSE_GOING_AWAY = 1001  # the service is stopping
CLOSE_REPLACED = 4000  # the session was resumed on another connection, or a new one opened
CLOSE_NO_HEARTBEAT = 4008  # nothing received for desktop.dead_after_s
CLOSE_TOO_FAR_BEHIND = 4009  # the reader fell further behind than the replay buffer
CLOSE_BAD_HELLO = 4400  # no valid hello/start in time, or an unsupported protocol version
CLOSE_UNAUTHORIZED = 4401  # missing, invalid or expired token
CLOSE_FORBIDDEN = 4403  # the token may not open this view


class DesktopError(Exception):
    """Bad input or a refused action on a websocket: answered with an error frame."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra


class HandshakeError(DesktopError):
    """A failed hello/start: the error frame is followed by closing with ``close_code``."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(code, message)
        self.close_code = close_code
