"""Two endpoints over a fake lossy UDP link on a fake clock (RFC 3261 §13, §17, RFC 6026).

Everything crosses the link as bytes and is parsed again on the other side, so
this exercises parser, serialiser, transactions, dialogs and the 2xx
retransmission together. The losses are chosen to hit the known pitfalls: a
retransmitted INVITE arriving after the 200 (must not be a second call), lost
2xx and lost ACKs, a lost 200 to BYE (the retransmitted BYE must get it again).
"""

from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field

from ivr.sip.actions import (
    AckTimeout,
    Action,
    DeliverRequest,
    DeliverResponse,
    Peer,
    SendMessage,
    TransactionFailed,
)
from ivr.sip.answer import AnswerRetransmitter
from ivr.sip.builders import make_request, make_response, new_branch, new_tag
from ivr.sip.dialog import Dialog, DialogState, DialogTable
from ivr.sip.message import Request
from ivr.sip.transaction import TransactionLayer
from ivr.sip.values import NameAddr, Via

DELAY = 0.05


@dataclass
class Endpoint:
    name: str
    peer: Peer  # our own address, as the other side sees it
    rng: random.Random
    layer: TransactionLayer = field(default_factory=TransactionLayer)
    answers: AnswerRetransmitter = field(default_factory=AnswerRetransmitter)
    dialogs: DialogTable = field(default_factory=DialogTable)
    seen: list[str] = field(default_factory=list)  # what reached this TU
    problems: list[Action] = field(default_factory=list)
    invite: Request | None = None
    ack: SendMessage | None = None

    def via(self) -> Via:
        branch = new_branch(self.rng)
        return Via(self.peer.transport, self.peer.host, self.peer.port, (("branch", branch),))

    def deadlines(self) -> list[float]:
        found = (self.layer.next_deadline(), self.answers.next_deadline())
        return [d for d in found if d is not None]


class Link:
    def __init__(self, drops: set[tuple[str, int]]) -> None:
        rng = random.Random(5)
        self.uac = Endpoint("uac", Peer("192.0.2.1", 5060), rng)
        self.uas = Endpoint("uas", Peer("192.0.2.2", 5060), rng)
        self.drops = drops
        self.sent = {"uac": 0, "uas": 0}
        self.wire: list[tuple[str, str]] = []  # (sender, first line) of delivered datagrams
        self._queue: list[tuple[float, int, Endpoint, bytes]] = []
        self._seq = itertools.count()
        self.now = 0.0

    def other(self, end: Endpoint) -> Endpoint:
        return self.uas if end is self.uac else self.uac

    def act(self, end: Endpoint, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, SendMessage):
                self._transmit(end, action.data)
            elif isinstance(action, DeliverRequest):
                self._tu_request(end, action)
            elif isinstance(action, DeliverResponse):
                self._tu_response(end, action)
            elif isinstance(action, AckTimeout | TransactionFailed):
                end.problems.append(action)

    def _transmit(self, sender: Endpoint, data: bytes) -> None:
        number = self.sent[sender.name]
        self.sent[sender.name] += 1
        if (sender.name, number) not in self.drops:
            heapq.heappush(self._queue, (self.now + DELAY, next(self._seq), sender, data))

    # -- the two transaction users ---------------------------------------------------

    def _tu_request(self, end: Endpoint, up: DeliverRequest) -> None:
        request = up.request
        end.seen.append(request.method)
        if request.method == "ACK":
            end.answers.ack_received(request)
            return
        assert up.tx is not None
        if request.method == "INVITE":
            ok = make_response(
                request, 200, to_tag=new_tag(end.rng), headers=[("Contact", "<sip:ivr@192.0.2.2>")]
            )
            end.dialogs.add(Dialog.as_uas(request, ok, local_seq=1))
            self.act(end, end.layer.send_response(up.tx, ok, self.now))
            end.answers.start(ok, up.peer, self.now)
        else:
            dialog = end.dialogs.for_request(request)
            assert dialog is not None
            self.act(end, end.layer.send_response(up.tx, make_response(request, 200), self.now))

    def _tu_response(self, end: Endpoint, up: DeliverResponse) -> None:
        response = up.response
        end.seen.append(f"{response.status} {response.cseq.method}")
        if response.cseq.method != "INVITE" or response.status != 200:
            return
        dialog = end.dialogs.for_response(response)
        if dialog is None:
            dialog = Dialog.as_uac(up.request, response)
            end.dialogs.add(dialog)
            ack = dialog.create_ack(up.request, via=end.via())
            end.ack = end.layer.send_stateless(ack, self.uas.peer)
        assert end.ack is not None  # §13.2.2.4: every 2xx retransmission is ACKed again
        self.act(end, [end.ack])

    # -- the clock -----------------------------------------------------------------------

    def run(self, until: float) -> None:
        while True:
            due = self.uac.deadlines() + self.uas.deadlines()
            if self._queue:
                due.append(self._queue[0][0])
            if not due or min(due) > until:
                self.now = until
                return
            self.now = min(due)
            while self._queue and self._queue[0][0] <= self.now:
                _, _, sender, data = heapq.heappop(self._queue)
                receiver = self.other(sender)
                self.wire.append((sender.name, data.split(b"\r\n", 1)[0].decode()))
                self.act(receiver, receiver.layer.receive_data(data, sender.peer, self.now))
            for end in (self.uac, self.uas):
                self.act(end, end.layer.handle_timer(self.now))
                self.act(end, end.answers.handle_timer(self.now))

    def call(self) -> None:
        uac = self.uac
        invite = make_request(
            "INVITE",
            "sip:ivr@192.0.2.2",
            via=uac.via(),
            from_=NameAddr(uri="sip:caller@192.0.2.1").with_tag(new_tag(uac.rng)),
            to="<sip:ivr@192.0.2.2>",
            call_id="call-1@192.0.2.1",
            cseq=1,
            contact="<sip:caller@192.0.2.1>",
        )
        uac.invite = invite
        _, actions = uac.layer.send_request(invite, self.uas.peer, self.now)
        self.act(uac, actions)

    def hang_up(self) -> None:
        (dialog,) = self.uac.dialogs
        bye = dialog.create_request("BYE", via=self.uac.via())
        _, actions = self.uac.layer.send_request(bye, self.uas.peer, self.now)
        self.act(self.uac, actions)


def test_lossless_call_has_one_of_everything() -> None:
    link = Link(drops=set())
    link.call()
    link.run(1.0)
    link.hang_up()
    link.run(100.0)
    assert link.uas.seen == ["INVITE", "ACK", "BYE"]
    assert link.uac.seen == ["100 INVITE", "200 INVITE", "200 BYE"]
    assert len(link.uac.layer) == len(link.uas.layer) == 0
    assert not link.uac.problems and not link.uas.problems


def test_rfc6026_lost_invites_lost_200s_and_a_lost_ack_still_make_one_call() -> None:
    # uac datagrams: 0-1 INVITE (lost), 2 INVITE, 3 INVITE (after the 200: absorbed), ...
    # uas datagrams: 0 100 (lost), 1 200 (lost), 2-3 200 again (lost), 4 200 (arrives).
    drops = {("uac", 0), ("uac", 1), ("uas", 0), ("uas", 1), ("uas", 2), ("uas", 3)}
    drops.add(("uac", 4))  # ...and the first ACK is lost too
    link = Link(drops)
    link.call()
    link.run(30.0)
    assert link.uas.seen.count("INVITE") == 1  # never a second call
    delivered_invites = [w for w in link.wire if w[0] == "uac" and w[1].startswith("INVITE")]
    assert len(delivered_invites) >= 2  # at least one retransmission met the Accepted state
    assert link.uac.seen.count("200 INVITE") >= 2  # the 2xx retransmission after the lost ACK
    assert link.uas.seen.count("ACK") >= 1 and len(link.uas.answers) == 0
    (dialog,) = link.uac.dialogs
    assert dialog.state is DialogState.CONFIRMED
    link.run(100.0)
    assert len(link.uac.layer) == len(link.uas.layer) == 0
    assert not link.uac.problems and not link.uas.problems


def test_sip_17_2_2_lost_200_to_bye_is_resent_to_the_retransmitted_bye() -> None:
    link = Link(drops=set())
    link.call()
    link.run(1.0)
    link.drops = {("uas", link.sent["uas"])}  # the uas's next datagram: the 200 to BYE
    link.hang_up()
    link.run(100.0)
    assert link.uas.seen.count("BYE") == 1
    assert link.uac.seen.count("200 BYE") == 1
    byes = [w for w in link.wire if w[0] == "uac" and w[1].startswith("BYE")]
    assert len(byes) == 2  # Timer E resent it, the server transaction answered again
    assert not link.uac.problems and not link.uas.problems


def test_sip_13_3_1_4_no_ack_at_all_reports_ack_timeout_to_the_uas() -> None:
    link = Link(drops={("uac", n) for n in range(1, 100)})  # only the INVITE gets through
    link.call()
    link.run(100.0)
    assert link.uas.seen == ["INVITE"]
    assert [type(p) for p in link.uas.problems] == [AckTimeout]
