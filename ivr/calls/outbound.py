"""An outgoing INVITE (the B2BUA's agent leg) as a UAC (RFC 3261 §13.2, §9.1, §15).

    leg = OutboundCall(edge, target="sip:1002@192.0.2.7:5062", caller=..., local=media,
                       observer=obs, call_id=..., rng=rng)
    leg.start();  leg.cancel();  leg.hang_up()

Rules:

* The INVITE carries our SDP offer (RFC 3264 §5); a 1xx moves the leg to
  PROCEEDING (180/183 are reported as ringing).
* 2xx: the dialog is created from it (§12.1.2) and ACKed (§13.2.2.4), every
  retransmitted 2xx is ACKed again. The answer SDP is read (RFC 3264 §7);
  an unusable answer → BYE and the leg fails with 488.
* A final non-2xx fails the leg (the transaction ACKs it, §17.1.1.3); a local
  408 (Timer B) or 503 (transport error) too.
* CANCEL (§9.1) only once a provisional arrived: before that, the cancel is
  remembered and sent on the first 1xx; a 2xx that crosses our CANCEL is
  ACKed and the dialog ended at once with a BYE (§9.1, §15).
* BYE from the far end ends the leg (the edge answers 200); `hang_up` sends
  ours.
* REFER from the phone (RFC 3515 §2.4.2) asks for a blind transfer: the
  observer says 202 or refuses (e.g. 404 for an unknown queue). The implicit
  subscription is closed by one NOTIFY with a `message/sipfrag` "200 OK"
  (§2.4.4, §2.4.5) sent just before our BYE releases the agent.
"""

from __future__ import annotations

import enum
import random
from typing import Protocol

from ivr.edge import SipEdge
from ivr.sip.actions import Peer, TxKey
from ivr.sip.builders import make_request, new_call_id, new_tag
from ivr.sip.dialog import Dialog
from ivr.sip.errors import SipError
from ivr.sip.message import Request, Response
from ivr.sip.offer_answer import LocalMedia, Negotiated, accept_answer, make_offer
from ivr.sip.sdp import SessionDescription, parse_sdp
from ivr.sip.uri import parse_uri
from ivr.sip.values import parse_name_addr


class LegState(enum.Enum):
    CALLING = "calling"
    PROCEEDING = "proceeding"
    ANSWERED = "answered"
    ENDED = "ended"


class LegObserver(Protocol):
    def on_ringing(self) -> None: ...

    def on_answered(self, media: Negotiated) -> None: ...

    def on_failed(self, status: int) -> None:
        """Never answered: a final non-2xx, a timeout, or our own CANCEL (487)."""

    def on_ended(self) -> None:
        """The answered leg got a BYE."""

    def on_refer(self, refer_to: str) -> int:
        """The phone asks to transfer the caller to `refer_to`: 202 or a refusal."""


def peer_for(uri_text: str) -> Peer:
    """Where to send a request for `uri_text` (§8.1.2, without DNS: host and port)."""
    uri = parse_uri(uri_text)
    transport = (uri.param("transport") or "udp").upper()
    return Peer(uri.host, uri.port or 5060, transport)


class OutboundCall:
    def __init__(
        self,
        edge: SipEdge,
        *,
        target: str,
        caller: str,
        local: LocalMedia,
        observer: LegObserver,
        rng: random.Random,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.edge = edge
        self.target = target
        self.peer = peer_for(target)
        self.observer = observer
        self.state = LegState.CALLING
        self.cancel_requested = False
        self.dialog: Dialog | None = None
        self.local = local
        self.offer: SessionDescription = make_offer(local)
        self.status: int | None = None
        self.refer_accepted = False
        self._tx: TxKey | None = None
        self.invite = make_request(
            "INVITE",
            target,
            via=edge.new_via(),
            from_=f"{caller};tag={new_tag(rng)}",
            to=f"<{target}>",
            call_id=new_call_id(rng, edge.host),
            cseq=rng.randrange(1, 2**16),
            contact=edge.contact,
            headers=headers,
            body=self.offer.serialise(),
            content_type="application/sdp",
        )

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    def start(self) -> None:
        self._tx = self.edge.send_request(self.invite, self.peer, self._on_response)

    def cancel(self) -> None:
        """Stop ringing (CANCEL), or end the call if it was answered meanwhile (BYE)."""
        if self.state is LegState.ANSWERED:
            self.hang_up()
        elif self.state is LegState.PROCEEDING:
            self.cancel_requested = True
            self._send_cancel()
        elif self.state is LegState.CALLING:
            self.cancel_requested = True  # §9.1: wait for a provisional before CANCEL

    def hang_up(self) -> None:
        dialog = self.dialog
        if self.state is not LegState.ANSWERED or dialog is None:
            return
        self._end()
        peer = peer_for(dialog.remote_target)
        if self.refer_accepted:
            self.edge.send_request(self._refer_done(dialog), peer, None)
        bye = dialog.create_request("BYE", via=self.edge.new_via())
        self.edge.send_request(bye, peer, None)

    def _refer_done(self, dialog: Dialog) -> Request:
        return dialog.create_request(
            "NOTIFY",
            via=self.edge.new_via(),
            body=b"SIP/2.0 200 OK\r\n",
            content_type="message/sipfrag;version=2.0",
            headers=[("Event", "refer"), ("Subscription-State", "terminated;reason=noresource")],
        )

    # -- responses -----------------------------------------------------------------------

    def _on_response(self, response: Response, local: bool) -> None:
        status = response.status
        if status < 200:
            self._provisional(response)
        elif status < 300:
            self._answered(response)
        elif self.state in (LegState.CALLING, LegState.PROCEEDING):
            self.status = status
            self._end()
            self.observer.on_failed(status)

    def _provisional(self, response: Response) -> None:
        if self.state is not LegState.CALLING:
            if self.state is LegState.PROCEEDING and response.status in (180, 183):
                self.observer.on_ringing()
            return
        self.state = LegState.PROCEEDING
        if self.cancel_requested:
            self._send_cancel()
        elif response.status in (180, 183):
            self.observer.on_ringing()

    def _answered(self, response: Response) -> None:
        if self.dialog is not None:  # a retransmitted 2xx: ACK it again (§13.2.2.4)
            self._ack(self.dialog)
            return
        try:
            dialog = Dialog.as_uac(self.invite, response)
        except SipError:
            return  # no To tag or Contact: nothing we can ACK or BYE
        self.dialog = dialog
        self._ack(dialog)
        if self.cancel_requested:
            self.state = LegState.ANSWERED  # the 2xx crossed our CANCEL: end it (§9.1)
            self.hang_up()
            self.observer.on_failed(487)
            return
        try:
            media = accept_answer(self.offer, parse_sdp(response.body))
        except SipError:
            self.state = LegState.ANSWERED
            self.hang_up()
            self.observer.on_failed(488)
            return
        self.state = LegState.ANSWERED
        self.status = response.status
        self.edge.add_dialog(dialog, self)
        self.observer.on_answered(media)

    # -- in-dialog requests from the far end (the edge's DialogUser) ---------------------

    def on_request(self, request: Request) -> int:
        if request.method == "REFER":
            return self._refer(request)
        return 200 if request.method in ("INFO", "NOTIFY") else 405

    def _refer(self, request: Request) -> int:
        refer_to = request.headers.get("refer-to")
        if refer_to is None or self.state is not LegState.ANSWERED:
            return 400 if refer_to is None else 481
        try:
            target = parse_name_addr(refer_to).uri
        except SipError:
            return 400
        status = self.observer.on_refer(target)
        self.refer_accepted = self.refer_accepted or status == 202
        return status

    def local_media(self) -> LocalMedia:
        return self.local

    def on_bye(self) -> None:
        if self.state is LegState.ANSWERED:
            self._end()
            self.observer.on_ended()

    # -- plumbing ------------------------------------------------------------------------

    def _ack(self, dialog: Dialog) -> None:
        ack = dialog.create_ack(self.invite, via=self.edge.new_via())
        self.edge.send_ack(ack, peer_for(dialog.remote_target))

    def _send_cancel(self) -> None:
        invite = self.invite
        cancel = make_request(
            "CANCEL",
            invite.target,
            via=invite.headers.get("via") or "",
            from_=invite.headers.get("from") or "",
            to=invite.headers.get("to") or "",
            call_id=invite.call_id,
            cseq=invite.cseq.number,
        )
        self.edge.send_request(cancel, self.peer, None)

    def _end(self) -> None:
        self.state = LegState.ENDED
        if self.dialog is not None:
            self.edge.remove_dialog(self.dialog)
        if self._tx is not None:
            self.edge.forget(self._tx)
