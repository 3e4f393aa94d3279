"""The SIP edge: one UAS + registrar core behind the UDP/TCP transport.

    edge = SipEdge("127.0.0.1", 5060, {"1001": "secret"}, handler=MyHandler())
    await edge.start(); ...; await edge.stop()

Requests (RFC 3261 §8.2 order, after the transaction layer absorbed
retransmissions):

* OPTIONS → 200 with Allow / Accept (§11.2); REGISTER → `Registrar` (§10.3).
* A method we do not implement → 405 with Allow (§8.2.1).
* With a To tag, the request must match a dialog, else 481 (§12.2.2); an
  unmatched ACK is dropped. BYE → 200 and the call ends (§15.1.2).
* INVITE → the `CallHandler` decides: `call.ring()` sends 180,
  `call.answer()` 200 with an SDP answer (RFC 3264, 488 when no codec is
  common), `call.reject(status)`. The 2xx is retransmitted until the ACK
  (§13.3.1.4). What `on_invite` sends is settled when it returns: a final
  answer given there supersedes a `ring()` given there (the 180 and the 200
  would leave in the same instant: no one could hear that ringing, and a 1xx
  is never required, §13.3.1.1), a ring alone goes out as 180, and a handler
  that did neither gets a 100 Trying sent for it at once (§17.2.1 owes the 100
  only when the TU will not answer within 200 ms). A default call is then two
  messages out instead of four.
* CANCEL → 200, and 487 to the INVITE if it had no final answer yet (§9.2).
* INFO inside a dialog goes to the dialog's user (DTMF relay, RFC 6086 §4.2.2:
  its answer, 200 or 415/469); a dialog the B2BUA started as a UAC
  (`send_request` + `add_dialog`) gets its in-dialog requests the same way.
* Responses to our requests go to the callback given to `send_request`.
* While the transport reports overload, a *new* INVITE or REGISTER gets 503 +
  Retry-After before any other work (§21.5.4), all but the share the transport
  admits (`SipTransport.shed_new`); retransmissions are still absorbed.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from typing import Protocol

from mypy_extensions import mypyc_attr

from ivr.registrar import Registrar
from ivr.sip.actions import (
    AckTimeout,
    Action,
    DeliverRequest,
    DeliverResponse,
    Dropped,
    Peer,
    SendMessage,
    TxKey,
)
from ivr.sip.answer import AnswerRetransmitter
from ivr.sip.builders import (
    error_response,
    header_lines,
    make_response,
    new_branch,
    new_tag,
    response_data,
    stateless_tag,
)
from ivr.sip.dialog import Dialog, DialogId, DialogTable
from ivr.sip.errors import RemoteSipError, SipParseError
from ivr.sip.message import Request, Response, parse_message
from ivr.sip.offer_answer import LocalMedia, Negotiated, answer, make_offer
from ivr.sip.sdp import parse_sdp
from ivr.sip.sdp_cache import AnswerCache
from ivr.sip.transaction import TransactionLayer, server_key
from ivr.transport import SipTransport

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, REFER, NOTIFY"
_METHODS = frozenset(m.strip() for m in ALLOW.split(","))
_SHED_PREFIXES = (b"INVITE ", b"REGISTER ")
SDP = "application/sdp"

ResponseCallback = Callable[[Response, bool], None]  # (response, made up locally: 408/503)


class DialogUser(Protocol):
    """Who owns a dialog: answers its in-dialog requests (BYE is handled by the edge)."""

    def on_request(self, request: Request) -> int:
        """The status to answer a non-BYE in-dialog request with."""

    def on_bye(self) -> None:
        """The peer ended the dialog (§15.1.2)."""

    def local_media(self) -> LocalMedia | None:
        """Where this dialog's media is, to answer a re-INVITE from (§14.2)."""


class Call:
    """One incoming INVITE and, once answered, its dialog."""

    def __init__(self, edge: SipEdge, request: Request, peer: Peer, tx: TxKey) -> None:
        self.edge = edge
        self.invite = request
        # Read from the INVITE once: the B2BUA, the router's centre and the call's end
        # ask for it about seven times a call, each a property and a header memo look-up.
        self.call_id = request.call_id
        self.peer = peer
        self.tx: TxKey | None = tx
        self.tag = new_tag(edge.rng)
        self.dialog: Dialog | None = None
        self.local: LocalMedia | None = None
        self.ended = False
        self.responded = False  # any response sent: no 100 Trying owed (§17.2.1)
        self.in_on_invite = False  # inside `on_invite`: a ring waits for what follows
        self.ring_held = False

    def ring(self) -> None:
        if self.in_on_invite:  # sent when on_invite returns, unless an answer supersedes it
            self.ring_held = True
            return
        self._respond(make_response(self.invite, 180, to_tag=self.tag))

    def answer(self, local: LocalMedia | None = None) -> Negotiated | None:
        """200 with our SDP answer (or offer, if the INVITE had none); 488 if no codec.

        `local`: this call's own media address (default: the edge's). Returns the
        negotiated media when the INVITE carried an offer, else None."""
        if self.tx is None:  # already answered, rejected or cancelled
            return None
        local = local if local is not None else self.edge.local_media
        self.local = local
        negotiated: Negotiated | None = None
        try:
            sdp, negotiated = self.edge.sdp_answers.answer(self.invite.body, local)
        except RemoteSipError as exc:  # NoCommonCodec → 488 (RFC 3264 §6), bad SDP → 400
            self.reject(exc.status)
            return None
        edge = self.edge
        contact, tail = edge.answer_lines()
        try:
            dialog = Dialog.answering(self.invite, 200, local_tag=self.tag, local_contact=contact)
        except RemoteSipError as exc:  # no readable Contact: no dialog possible (§12.1)
            self.reject(exc.status)
            return None
        self.dialog = dialog
        edge.dialogs.add(dialog)
        edge.calls[dialog.id] = self
        tx = self.tx
        self.tx = None
        self.responded = True
        if tx in edge._invites:  # `in` and `del`: `pop` is a generic method call, compiled
            del edge._invites[tx]
        # Only bytes: the transaction keeps none of it (Timer L, RFC 6026 §8.7), the
        # retransmitter resends the bytes (§13.3.1.4); `make_response` would have built
        # a Response, its header block and fields to serialise them once.
        ok = response_data(self.invite, 200, to_tag=self.tag, tail=tail, body=sdp)
        now = edge.now()
        actions = edge.layer.send_response_data(tx, 200, ok, now)
        if actions is None:  # the transaction is gone: `send_response` says so
            headers = [("Contact", contact), ("Allow", ALLOW)]
            slow = make_response(
                self.invite, 200, to_tag=self.tag, headers=headers, body=sdp, content_type=SDP
            )
            actions = edge.layer.send_response(tx, slow, now)
        edge.execute(actions)
        edge.kick()
        # The key `answer_key` would read back from the 200: its Call-ID, our tag, its CSeq.
        key = (self.call_id, self.tag, self.invite.cseq.number)
        edge.answers.start_data(ok, self.peer, now, key)
        return negotiated

    def hang_up(self) -> None:
        """End the answered call from our side with a BYE (§15.1.1)."""
        dialog = self.dialog
        if dialog is None or self.ended:
            return
        self.ended = True
        self.edge.calls.pop(dialog.id, None)
        self.edge.dialogs.remove(dialog)
        bye = dialog.create_request("BYE", via=self.edge.new_via())
        self.edge.send_request(bye, self.peer, None)

    def on_request(self, request: Request) -> int:
        return self.edge.handler.on_info(self, request) if request.method == "INFO" else 405

    def on_bye(self) -> None:
        self.edge._end(self.dialog.id if self.dialog is not None else None)

    def local_media(self) -> LocalMedia | None:
        return self.local

    def reject(self, status: int) -> None:
        self._respond(make_response(self.invite, status, to_tag=self.tag))

    def _respond(self, response: Response) -> bool:
        if self.tx is None:
            return False
        tx = self.tx
        self.responded = True
        if response.status >= 200:
            self.tx = None
            if tx in self.edge._invites:
                del self.edge._invites[tx]
        self.edge.execute(self.edge.layer.send_response(tx, response, self.edge.now()))
        self.edge.kick()
        return True


@mypyc_attr(allow_interpreted_subclasses=True)  # the B2BUA, the load test, tests
class CallHandler:
    """The hook the IVR/router plugs in. The default answers at once."""

    def on_invite(self, call: Call) -> None:
        call.ring()
        call.answer()

    def on_cancel(self, call: Call) -> None:
        """The caller gave up before the answer (§9.2)."""

    def on_ended(self, call: Call) -> None:
        """BYE received, or the 2xx was never ACKed (§13.3.1.4)."""

    def on_info(self, call: Call, request: Request) -> int:
        """INFO in the call's dialog (RFC 6086): the status to answer with."""
        return 415  # RFC 6086 §4.2.2: no Info Package we understand


@mypyc_attr(allow_interpreted_subclasses=True)  # simulation.loadtest.sipua.LoadEdge
class SipEdge:
    def __init__(
        self,
        host: str,
        port: int,
        credentials: Mapping[str, str],
        *,
        handler: CallHandler | None = None,
        realm: str = "ringway",
        rng: random.Random | None = None,
        media_port: int = 40000,
        # Each call holds ~2 server transactions for 64·T1 = 32 s after it ends (Timers J/L,
        # RFC 3261 §17.2.2): 100,000 capped sustained traffic near 1,560 calls/s. Ended
        # transactions are tuples of bytes and numbers the garbage collector does not track
        # (`ivr.sip.transaction`, ~3.7 KiB a call, docs/sip-performance.md).
        max_server_transactions: int | None = 500_000,
        max_lag: float = 0.05,
        max_busy: float = 0.9,
        retry_after: int = 5,
        registrar: Registrar | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.rng = rng if rng is not None else random.Random()
        self.handler = handler if handler is not None else CallHandler()
        self.layer = TransactionLayer(  # the 100 Trying is ours to send: `_invite`
            max_server_transactions=max_server_transactions,
            retry_after=retry_after,
            auto_trying=False,
        )
        self.sdp_answers = AnswerCache()
        self.answers = AnswerRetransmitter()
        self.dialogs = DialogTable()
        self.calls: dict[DialogId, Call] = {}
        self.users: dict[DialogId, DialogUser] = {}  # dialogs we started as a UAC
        self._clients: dict[TxKey, ResponseCallback] = {}
        self._invites: dict[TxKey, Call] = {}
        self.registrar = registrar or Registrar(
            credentials=credentials, realm=realm, secret=os.urandom(32), rng=self.rng
        )
        self.local_media = LocalMedia(address=host, port=media_port)
        self.max_lag, self.max_busy = max_lag, max_busy
        self.retry_after = retry_after
        self.counters = {"shed": 0, "dropped": 0, "ignored": 0, "ack_timeouts": 0}
        self.transport: SipTransport | None = None
        self._answer_lines: tuple[str, int, str, str] | None = None  # `answer_lines`

    @property
    def contact(self) -> str:
        return f"<sip:ringway@{self.host}:{self.port}>"

    def answer_lines(self) -> tuple[str, str]:
        """Our Contact, and the lines a 200 with our SDP adds to the copied ones
        (`response_data`'s tail): made once for the address they name, not per call."""
        found = self._answer_lines
        if found is None or found[0] != self.host or found[1] != self.port:
            contact = self.contact
            tail = header_lines([("Contact", contact), ("Allow", ALLOW)], SDP)
            found = self._answer_lines = (self.host, self.port, contact, tail)
        return found[2], found[3]

    async def start(self) -> None:
        self.transport = SipTransport(
            self, self.host, self.port, max_lag=self.max_lag, max_busy=self.max_busy
        )
        await self.transport.start()
        self.port = self.transport.port
        self.local_media = LocalMedia(address=self.host, port=self.local_media.port)

    async def stop(self) -> None:
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None

    def now(self) -> float:
        return self.transport.loop.time() if self.transport is not None else 0.0

    def kick(self) -> None:
        if self.transport is not None:
            self.transport.rearm()

    # -- as a UAC (the B2BUA's outgoing legs) -------------------------------------------

    def new_via(self) -> str:
        """A top Via for a request we send: fresh branch (§8.1.1.7), rport (RFC 3581)."""
        return f"SIP/2.0/UDP {self.host}:{self.port};branch={new_branch(self.rng)};rport"

    def send_request(
        self, request: Request, peer: Peer, on_response: ResponseCallback | None
    ) -> TxKey:
        """Start a client transaction; every response to it goes to `on_response`."""
        tx, actions = self.layer.send_request(request, peer, self.now())
        if on_response is not None:
            self._clients[tx] = on_response
        self.execute(actions)
        self.kick()
        return tx

    def send_ack(self, ack: Request, peer: Peer) -> None:
        """The ACK to a 2xx: no transaction, sent as is (§13.2.2.4, §17.1.1.3)."""
        self._send(self.layer.send_stateless(ack, peer))

    def forget(self, tx: TxKey) -> None:
        self._clients.pop(tx, None)

    def add_dialog(self, dialog: Dialog, user: DialogUser) -> None:
        self.dialogs.add(dialog)
        self.users[dialog.id] = user

    def remove_dialog(self, dialog: Dialog) -> None:
        self.dialogs.remove(dialog)
        self.users.pop(dialog.id, None)

    # -- SipCore ---------------------------------------------------------------------

    def on_data(self, data: bytes, peer: Peer, now: float) -> None:
        if self._lagging() and data[:9].startswith(_SHED_PREFIXES):
            try:
                message = parse_message(data)
            except SipParseError:
                pass  # the layer answers 400 below
            else:
                self.on_message(message, peer, now)
                return
        self.execute(self.layer.receive_data(data, peer, now))

    def on_message(self, message: Request | Response, peer: Peer, now: float) -> None:
        if (
            isinstance(message, Request)
            and message.method in ("INVITE", "REGISTER")
            and self._lagging()
            and self.layer.state(server_key(message)) is None  # retransmissions: absorbed
            and self.transport is not None
            and self.transport.shed_new()  # overloaded: all but the share admitted
        ):
            self._shed(message, peer)
            return
        self.execute(self.layer.receive(message, peer, now))

    def _lagging(self) -> bool:
        return self.transport is not None and self.transport.lagging

    def on_parse_error(self, exc: SipParseError, peer: Peer) -> None:
        response = error_response(exc)
        if response is not None:
            self._send(SendMessage(data=response.serialise(), message=response, peer=peer))

    def next_deadline(self) -> float | None:
        layer, answers = self.layer.next_deadline(), self.answers.next_deadline()
        if layer is None or answers is None:  # no tuple and list for the usual one or none
            return answers if layer is None else layer
        return min(layer, answers)

    def on_timer(self, now: float) -> None:
        self.execute(self.layer.handle_timer(now) + self.answers.handle_timer(now))

    # -- actions ---------------------------------------------------------------------

    def execute(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, SendMessage):
                self._send(action)
            elif isinstance(action, DeliverRequest):
                self._request(action.request, action.peer, action.tx)
            elif isinstance(action, AckTimeout):
                self.counters["ack_timeouts"] += 1
                ok = action.response
                self._end(DialogId(ok.call_id, ok.to_tag or "", ok.from_tag or ""))
            elif isinstance(action, DeliverResponse):
                self._response(action)
            elif isinstance(action, Dropped):
                self.counters["dropped"] += 1
            else:  # TransactionFailed: the server transaction is gone, nothing to answer
                self.counters["ignored"] += 1

    def _response(self, action: DeliverResponse) -> None:
        callback = self._clients.get(action.tx)
        if callback is None:
            self.counters["ignored"] += 1
            return
        if action.response.status >= 200 and action.request.method != "INVITE":
            del self._clients[action.tx]  # INVITE: 2xx retransmissions still need an ACK
        callback(action.response, action.local)

    def _send(self, message: SendMessage) -> None:
        if self.transport is not None:
            self.transport.send(message)

    def _shed(self, request: Request, peer: Peer) -> None:
        self.counters["shed"] += 1
        tag = stateless_tag(request.headers)
        headers = [("Retry-After", str(self.retry_after))]
        response = make_response(request, 503, to_tag=tag, headers=headers)
        self._send(self.layer.send_stateless(response, peer))

    def _reply(
        self,
        tx: TxKey | None,
        request: Request,
        status: int,
        headers: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    ) -> None:
        if tx is None:
            return
        tag = stateless_tag(request.headers) if not request.to_tag else None
        now = self.now()
        if request.method != "INVITE":  # a final that ends its transaction (Timer J): bytes
            tail = header_lines(headers) if headers else ""
            data = response_data(request, status, to_tag=tag, tail=tail)
            actions = self.layer.send_response_data(tx, status, data, now)
            if actions is not None:
                self.execute(actions)
                return
        response = make_response(request, status, to_tag=tag, headers=headers)
        self.execute(self.layer.send_response(tx, response, now))

    def _request(self, request: Request, peer: Peer, tx: TxKey | None) -> None:
        method = request.method
        if method not in _METHODS:
            self._reply(tx, request, 405, headers=[("Allow", ALLOW)])
        elif request.to_tag:
            self._in_dialog(request, tx, peer)
        elif method == "INVITE" and tx is not None:
            self._invite(request, peer, tx)
        elif method == "OPTIONS":
            allow = [("Allow", ALLOW), ("Accept", "application/sdp")]
            self._reply(tx, request, 200, headers=allow)
        elif method == "REGISTER" and tx is not None:
            response = self.registrar.handle(request, peer.host, self.now())
            self.execute(self.layer.send_response(tx, response, self.now()))
        elif method == "CANCEL":
            self._cancel(request, tx)
        elif method != "ACK":
            self._reply(tx, request, 481)  # BYE outside any dialog (§15.1.2)

    def _invite(self, request: Request, peer: Peer, tx: TxKey) -> None:
        call = Call(self, request, peer, tx)
        call.in_on_invite = True
        try:
            self.handler.on_invite(call)
        finally:
            call.in_on_invite = False
            # Only a call still unanswered can be CANCELled (§9.2): one answered inside
            # `on_invite` (no CANCEL can arrive meanwhile) is never listed, nor unlisted.
            if call.tx is not None:
                self._invites[tx] = call
        if call.tx is None:  # answered or rejected at once: a held ring is superseded
            return
        if call.ring_held:
            call.ring()
        elif not call.responded:  # the handler answers later: 100 now (§17.2.1, §8.2.6.1)
            self.execute(self.layer.send_response(tx, make_response(request, 100), self.now()))

    def _in_dialog(self, request: Request, tx: TxKey | None, peer: Peer) -> None:
        try:
            dialog = self.dialogs.for_request(request)
        except RemoteSipError as exc:
            if request.method != "ACK":
                self._reply(tx, request, exc.status)
            return
        if dialog is None:
            return
        method = request.method
        if method == "ACK":  # it only stops the 2xx (§13.3.1.4): no user to look up
            self.answers.ack_received(request)
            return
        user: DialogUser | None = self.calls.get(dialog.id) or self.users.get(dialog.id)
        if method == "BYE":
            self._reply(tx, request, 200)
            if user is not None and dialog.id in self.users:
                self.remove_dialog(dialog)
                user.on_bye()
            else:
                self._end(dialog.id)
        elif request.method == "INVITE" and user is not None and tx is not None:
            self._reinvite(request, tx, peer, user)
        elif request.method == "OPTIONS" or user is None:
            status = 200 if request.method == "OPTIONS" else 405
            self._reply(tx, request, status, headers=[("Allow", ALLOW)])
        else:
            status = user.on_request(request)
            self._reply(tx, request, status, headers=[("Allow", ALLOW)] if status == 405 else ())

    def _reinvite(self, request: Request, tx: TxKey, peer: Peer, user: DialogUser) -> None:
        """A re-INVITE (§14.2): hold, a new address, a session-timer refresh (RFC 4028).
        Answered from the same media address; the RTP endpoint follows wherever the
        far end sends from (symmetric RTP, RFC 4961)."""
        local = user.local_media()
        if local is None:
            self._reply(tx, request, 488)
            return
        try:
            offer = parse_sdp(request.body) if request.body else None
            sdp = answer(offer, local).sdp if offer is not None else make_offer(local)
        except RemoteSipError as exc:  # NoCommonCodec → 488, bad SDP → 400
            self._reply(tx, request, exc.status)
            return
        ok = make_response(
            request,
            200,
            headers=[("Contact", self.contact), ("Allow", ALLOW)],
            body=sdp.serialise(),
            content_type="application/sdp",
        )
        self.execute(self.layer.send_response(tx, ok, self.now()))
        self.answers.start(ok, peer, self.now())  # until its ACK (§13.3.1.4)

    def _cancel(self, request: Request, tx: TxKey | None) -> None:
        invite_tx = self.layer.invite_for_cancel(request)
        if invite_tx is None:
            self._reply(tx, request, 481)
            return
        self._reply(tx, request, 200)  # §9.2: even if the INVITE was already answered
        call = self._invites.get(invite_tx)
        if call is not None and call.tx is not None:
            call.reject(487)
            self.handler.on_cancel(call)

    def _end(self, dialog_id: DialogId | None) -> None:
        if dialog_id is None:
            return
        call = self.calls.get(dialog_id)
        if call is not None:
            del self.calls[dialog_id]
        dialog = self.dialogs.get(dialog_id)
        if dialog is not None:
            self.dialogs.remove(dialog)
        if call is not None and not call.ended:
            call.ended = True
            self.handler.on_ended(call)
