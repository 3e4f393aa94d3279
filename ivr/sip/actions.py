"""What the sans-I/O layers hand back to their driver: small frozen records.

The transport driver executes `SendMessage`; the transaction user (UAS/UAC
core, B2BUA) consumes `DeliverRequest`, `DeliverResponse`, `TransactionFailed`
and `AckTimeout`; `Dropped` is for counters and logs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.sip.message import Request, Response, parse_message

# Each record spells out its `__init__`, which `dataclass` then leaves alone: mypyc
# compiles it, where the generated one stays interpreted Python (about 10x slower:
# several of these are made for every message). The signatures are the ones
# `dataclass` would write; tests/sip/test_sip_records.py holds them to it.
# `object.__setattr__` because the records are frozen: mypyc turns that call, spelled
# out (not through an alias), into a plain store.

RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "TLS-SCTP", "WS", "WSS"})

TxKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Peer:
    """The far end of one hop: where a message came from or goes to."""

    host: str
    port: int
    transport: str = "UDP"

    def __init__(self, host: str, port: int, transport: str = "UDP") -> None:
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", port)
        object.__setattr__(self, "transport", transport)

    @property
    def reliable(self) -> bool:
        """Reliable transports switch the retransmission timers off (§17.1.1.2)."""
        transport = self.transport
        if transport == "UDP":  # nearly every peer: no upper-casing, no set lookup
            return False
        return transport.upper() in RELIABLE_TRANSPORTS


class SendMessage:
    """Put `data` (the serialised `message`) on the wire towards `peer`.

    `message` may be left out when only the bytes were built (`response_data`: the
    answers that end their transaction at once): the transport reads only `data`,
    and `message` is then parsed back from it when someone asks -- the byte-exact
    round trip makes that the message the bytes were serialised from."""

    __slots__ = ("_message", "data", "peer", "retransmission")

    def __init__(
        self,
        *,
        data: bytes,
        message: Request | Response | None = None,
        peer: Peer,
        retransmission: bool = False,
    ) -> None:
        self.data = data
        self._message = message
        self.peer = peer
        self.retransmission = retransmission

    @property
    def message(self) -> Request | Response:
        found = self._message
        if found is None:
            found = self._message = parse_message(self.data)
        return found

    def __repr__(self) -> str:
        return (
            f"SendMessage(data={self.data!r}, peer={self.peer!r}, "
            f"retransmission={self.retransmission!r})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverRequest:
    """A new request for the TU; answer it with `send_response(tx, ...)`.

    `tx` is None for a request that has no server transaction: an ACK to a 2xx
    (§17.2.3, §13.3.1.4), which the UAS core matches to its dialog.
    """

    request: Request
    peer: Peer
    tx: TxKey | None

    def __init__(self, *, request: Request, peer: Peer, tx: TxKey | None) -> None:
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "peer", peer)
        object.__setattr__(self, "tx", tx)


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

    def __init__(
        self, *, response: Response, request: Request, tx: TxKey, local: bool = False
    ) -> None:
        object.__setattr__(self, "response", response)
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "tx", tx)
        object.__setattr__(self, "local", local)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFailed:
    """A server transaction ended badly: no ACK before Timer H, or transport error (§17.2.1)."""

    tx: TxKey
    request: Request
    reason: str

    def __init__(self, *, tx: TxKey, request: Request, reason: str) -> None:
        object.__setattr__(self, "tx", tx)
        object.__setattr__(self, "request", request)
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class AckTimeout:
    """No ACK for a 2xx within 64·T1: the UAS should end the session with BYE (§13.3.1.4)."""

    response: Response

    def __init__(self, *, response: Response) -> None:
        object.__setattr__(self, "response", response)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropped:
    """A message the layer discarded, and why (for counters, never for replies)."""

    peer: Peer
    reason: str

    def __init__(self, *, peer: Peer, reason: str) -> None:
        object.__setattr__(self, "peer", peer)
        object.__setattr__(self, "reason", reason)


Action = SendMessage | DeliverRequest | DeliverResponse | TransactionFailed | AckTimeout | Dropped
