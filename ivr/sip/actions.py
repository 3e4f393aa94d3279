"""What the sans-I/O layers hand back to their driver: small frozen records.

The transport driver executes `SendMessage`; the transaction user (UAS/UAC
core, B2BUA) consumes `DeliverRequest`, `DeliverResponse`, `TransactionFailed`
and `AckTimeout`; `Dropped` is for counters and logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.sip.message import Request, Response

RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS"})

TxKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Peer:
    """The far end of one hop: where a message came from or goes to."""

    host: str
    port: int
    transport: str = "UDP"

    @property
    def reliable(self) -> bool:
        """Reliable transports switch the retransmission timers off (§17.1.1.2)."""
        return self.transport.upper() in RELIABLE_TRANSPORTS


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessage:
    """Put `data` (the serialised `message`) on the wire towards `peer`."""

    data: bytes
    message: Request | Response
    peer: Peer
    retransmission: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverRequest:
    """A new request for the TU; answer it with `send_response(tx, ...)`.

    `tx` is None for a request that has no server transaction: an ACK to a 2xx
    (§17.2.3, §13.3.1.4), which the UAS core matches to its dialog.
    """

    request: Request
    peer: Peer
    tx: TxKey | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverResponse:
    """A response for the TU's client transaction `tx`.

    `local` marks a response the transaction made up: 408 when Timer B or F
    fired, 503 on a transport error (§8.1.3.1).
    """

    response: Response
    request: Request
    tx: TxKey
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFailed:
    """A server transaction ended badly: no ACK before Timer H, or transport error (§17.2.1)."""

    tx: TxKey
    request: Request
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AckTimeout:
    """No ACK for a 2xx within 64·T1: the UAS should end the session with BYE (§13.3.1.4)."""

    response: Response


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropped:
    """A message the layer discarded, and why (for counters, never for replies)."""

    peer: Peer
    reason: str


Action = SendMessage | DeliverRequest | DeliverResponse | TransactionFailed | AckTimeout | Dropped
