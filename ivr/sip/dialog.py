"""Dialogs (RFC 3261 §12): creation, in-dialog requests, the 481 for strangers.

Rules:

* A dialog is (Call-ID, local tag, remote tag) (§12). A UAS creates it from a
  request and its 1xx/2xx with a To tag (§12.1.1): route set = the request's
  Record-Route in order, remote target = its Contact, remote CSeq = its CSeq.
  A UAC creates it from the 1xx/2xx (§12.1.2): route set = the response's
  Record-Route *reversed*, remote target = the response's Contact, local CSeq
  = the request's.
* A 1xx makes an early dialog, a 2xx a confirmed one; a 2xx confirms an early
  dialog (§12.1, §13.2.2.4).
* In-dialog requests (§12.2.1.1): To = remote URI + remote tag, From = local
  URI + local tag, CSeq one above the last (ACK and CANCEL reuse the INVITE's
  number). Loose routing (first route has `;lr`): Request-URI = remote target,
  Route = route set. Strict: Request-URI = first route, Route = the rest plus
  the remote target.
* Incoming in-dialog requests (§12.2.2): unknown dialog → 481; CSeq lower than
  the remote sequence number → 500; a target-refresh request (re-INVITE,
  UPDATE, ...) replaces the remote target with its Contact; BYE ends it.
* Responses inside a dialog (§12.2.1.2): 481 or 408 end the dialog; a 2xx to a
  target refresh replaces the remote target.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ivr.sip.builders import make_request
from ivr.sip.errors import CallDoesNotExist, LocalSipError, OutOfOrderRequest, RemoteSipError
from ivr.sip.message import Request, Response
from ivr.sip.values import NameAddr, Via, parse_name_addr

# §12.2: requests that refresh the remote target (INVITE here; UPDATE RFC 3311,
# SUBSCRIBE/NOTIFY RFC 6665, REFER RFC 3515).
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})
_NO_NEW_CSEQ = frozenset({"ACK", "CANCEL"})


class DialogState(enum.Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


class DialogId(NamedTuple):
    """Hashed and compared in C: it is looked up several times per call."""

    call_id: str
    local_tag: str
    remote_tag: str


class Dialog:
    """One dialog's state (§12): tags, sequence numbers, remote target, routes."""

    __slots__ = (
        "_id",
        "_local_party",
        "_remote_party",
        "call_id",
        "local_contact",
        "local_seq",
        "local_tag",
        "remote_seq",
        "remote_tag",
        "remote_target",
        "route_set",
        "secure",
        "state",
    )

    def __init__(
        self,
        *,
        call_id: str,
        local_tag: str,
        remote_tag: str,
        local_party: NameAddr,
        remote_party: NameAddr,
        remote_target: str,
        route_set: tuple[str, ...],
        local_contact: str,
        local_seq: int | None = None,
        remote_seq: int | None = None,
        secure: bool = False,
        state: DialogState = DialogState.CONFIRMED,
    ) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        # Kept as given, the tag dropped when read: only requests we send read them, and
        # the caller's From always has a tag (§8.1.1.3), so dropping it here cost a
        # NameAddr per call that most calls never use.
        self._local_party = local_party
        self._remote_party = remote_party
        self.remote_target = remote_target
        self.route_set = route_set
        self.local_contact = local_contact
        self.local_seq = local_seq
        self.remote_seq = remote_seq
        self.secure = secure
        self.state = state
        # Made once: a dialog's id never changes (§12), and it is looked up about
        # six times a call. Made by tuple.__new__, what the NamedTuple's own
        # (interpreted, ~3,500 instructions) __new__ ends in: the same DialogId.
        self._id = tuple.__new__(DialogId, (call_id, local_tag, remote_tag))

    @property
    def id(self) -> DialogId:
        return self._id

    @property
    def local_party(self) -> NameAddr:
        """Our URI and display name, without a tag (§12.1.1, §12.1.2)."""
        return self._local_party.without_tag()

    @property
    def remote_party(self) -> NameAddr:
        return self._remote_party.without_tag()

    # -- creation --------------------------------------------------------------------

    @classmethod
    def as_uas(
        cls,
        request: Request,
        response: Response,
        *,
        local_seq: int | None = None,
        local_tag: str | None = None,
        local_contact: str | None = None,
    ) -> Dialog:
        """The UAS side, from the request and the 1xx/2xx we answer it with (§12.1.1).

        `local_seq` seeds our CSeq for requests we will send (§8.1.1.5 wants an
        arbitrary start; pass one from the injected RNG). `local_tag`: the To tag
        the caller gave `response`, built from `request` (`make_response`); the
        local URI is then read from the request's To, which the response copies
        (§8.2.6.2), instead of parsing the response's To back -- a NameAddr parse
        per call, the response's To tag being new every call. `local_contact`: the
        Contact the caller gave `response`, likewise not read back from it.
        """
        if local_tag is None:
            local_tag = response.to_tag
            local_party = response.to
        else:
            local_party = request.to
        if not local_tag:
            raise LocalSipError("a dialog-creating response needs a To tag (§12.1.1)")
        target = _contact_uri(request)  # its error first, as ever
        contact = local_contact if local_contact else _first_contact(response)
        state = _state_for(response)
        return _uas(request, local_tag, local_party, target, contact, local_seq, state)

    @classmethod
    def answering(
        cls,
        request: Request,
        status: int,
        *,
        local_tag: str,
        local_contact: str,
        local_seq: int | None = None,
    ) -> Dialog:
        """`as_uas` for the `status` response (1xx/2xx) to `request` that adds our
        `local_tag` to the request's To and carries `local_contact`, before (or without)
        that response being built: it is sent as bytes (`response_data`)."""
        if not local_tag:
            raise LocalSipError("a dialog-creating response needs a To tag (§12.1.1)")
        target = _contact_uri(request)
        state = _state_for_status(status)
        return _uas(request, local_tag, request.to, target, local_contact, local_seq, state)

    @classmethod
    def as_uac(cls, request: Request, response: Response) -> Dialog:
        """The UAC side, from our request and a 1xx/2xx with a To tag (§12.1.2)."""
        remote_tag = response.to_tag
        if not remote_tag:
            raise RemoteSipError("dialog-creating response without a To tag")
        return Dialog(  # not cls(...): a direct call, compiled (no subclasses)
            call_id=request.call_id,
            local_tag=request.from_tag or "",
            remote_tag=remote_tag,
            local_party=request.from_,
            remote_party=response.to,
            remote_target=_contact_uri(response),
            route_set=tuple(reversed(response.record_route)),
            local_contact=_first_contact(request),
            local_seq=request.cseq.number,
            secure=_secure(request),
            state=_state_for(response),
        )

    # -- requests we send ------------------------------------------------------------

    def create_request(
        self,
        method: str,
        *,
        via: Via | str,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> Request:
        """A request inside this dialog (§12.2.1.1): BYE, INFO, re-INVITE, UPDATE ..."""
        if method in _NO_NEW_CSEQ:
            raise LocalSipError(f"use create_ack / a CANCEL builder for {method}")
        if self.state is DialogState.TERMINATED:
            raise LocalSipError("the dialog is terminated")
        self.local_seq = (self.local_seq or 0) + 1
        return self._request(method, self.local_seq, via, body, content_type, headers)

    def create_ack(
        self,
        invite: Request,
        *,
        via: Via | str,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> Request:
        """The ACK for a 2xx to `invite`: same CSeq number, method ACK (§13.2.2.4)."""
        return self._request("ACK", invite.cseq.number, via, body, content_type, ())

    def _request(
        self,
        method: str,
        cseq: int,
        via: Via | str,
        body: bytes,
        content_type: str | None,
        headers: Iterable[tuple[str, str]],
    ) -> Request:
        uri, routes = self._uri_and_routes()
        refresh = method in TARGET_REFRESH
        return make_request(
            method,
            uri,
            via=via,
            from_=self.local_party.with_tag(self.local_tag),
            to=self.remote_party.with_tag(self.remote_tag),
            call_id=self.call_id,
            cseq=cseq,
            contact=self.local_contact if refresh else None,
            routes=routes,
            headers=headers,
            body=body,
            content_type=content_type,
        )

    def _uri_and_routes(self) -> tuple[str, list[str]]:
        routes = list(self.route_set)
        if not routes:
            return self.remote_target, []
        first = parse_name_addr(routes[0]).parsed_uri()
        if first.has_param("lr"):
            return self.remote_target, routes
        # Strict routing (§12.2.1.1): the first route becomes the Request-URI,
        # stripped of parameters a Request-URI may not carry (§19.1.1).
        uri = str(first.without_params("method", "ttl", "maddr"))
        return uri, [*routes[1:], f"<{self.remote_target}>"]

    # -- what we receive -------------------------------------------------------------

    def receive_request(self, request: Request) -> None:
        """Apply §12.2.2 to a request that matched this dialog; may raise 500."""
        number = request.cseq.number
        if request.method not in _NO_NEW_CSEQ:
            if self.remote_seq is not None and number < self.remote_seq:
                raise OutOfOrderRequest(f"CSeq {number} below {self.remote_seq}")
            self.remote_seq = number
        if request.method in TARGET_REFRESH and request.contacts:
            self.remote_target = request.contacts[0].uri
        if request.method == "BYE":
            self.state = DialogState.TERMINATED

    def receive_response(self, request: Request, response: Response) -> None:
        """Apply §12.2.1.2 (and §13.2.2.4 confirmation) to a response to our request."""
        status = response.status
        if status in (481, 408):
            self.state = DialogState.TERMINATED
            return
        if 200 <= status < 300:
            if request.method == "INVITE" and self.state is DialogState.EARLY:
                self.state = DialogState.CONFIRMED
            if request.method in TARGET_REFRESH and response.contacts:
                self.remote_target = response.contacts[0].uri
            if request.method == "BYE":
                self.state = DialogState.TERMINATED
        elif status >= 300 and self.state is DialogState.EARLY and request.method == "INVITE":
            self.state = DialogState.TERMINATED  # §12.3: a non-2xx final ends early dialogs


class DialogTable:
    """Dialogs by id; routes in-dialog requests and answers strangers with 481."""

    def __init__(self) -> None:
        # Keyed by `DialogId`s, looked up with plain tuples: equal and hashed alike, and
        # a NamedTuple is built through an interpreted __new__ (twice a call: ACK, BYE).
        self._dialogs: dict[tuple[str, str, str], Dialog] = {}

    def __len__(self) -> int:
        return len(self._dialogs)

    def __iter__(self) -> Iterator[Dialog]:
        return iter(list(self._dialogs.values()))

    def add(self, dialog: Dialog) -> None:
        self._dialogs[dialog.id] = dialog

    def remove(self, dialog: Dialog) -> None:
        dialogs, key = self._dialogs, dialog.id
        if key in dialogs:  # `in` and `del`: `pop` is a generic method call, compiled
            del dialogs[key]

    def get(self, dialog_id: tuple[str, str, str]) -> Dialog | None:
        """The dialog of `dialog_id` (a `DialogId`, or the same three strings)."""
        return self._dialogs.get(dialog_id)

    def for_request(self, request: Request) -> Dialog | None:
        """The dialog an incoming request belongs to, after §12.2.2 processing.

        None for a request outside any dialog (no To tag). Raises
        `CallDoesNotExist` (481) for a To tag we do not know -- except that an
        ACK is never answered: the caller drops it.
        """
        to_tag = request.to_tag
        if not to_tag:
            return None
        dialog = self._dialogs.get((request.call_id, to_tag, request.from_tag or ""))
        if dialog is None:
            raise CallDoesNotExist(f"no dialog for Call-ID {request.call_id!r}")
        dialog.receive_request(request)
        return dialog

    def for_response(self, response: Response) -> Dialog | None:
        remote = response.to_tag or ""
        return self._dialogs.get((response.call_id, response.from_tag or "", remote))


def _contact_uri(message: Request | Response) -> str:
    contacts = message.contacts
    if not contacts or contacts[0].uri == "*":
        raise RemoteSipError("a dialog-creating message needs a Contact (§12.1)")
    return contacts[0].uri


def _secure(request: Request) -> bool:
    """A sips Request-URI (§12.1.1, §12.1.2); schemes compare without case (§19.1.4).

    Read off the text: parsing the whole URI for its scheme cost more."""
    target = request.target
    if target.startswith("sip:"):  # nearly every call: no slice, no lower-cased copy
        return False
    return target[:5].lower() == "sips:"


def _first_contact(message: Request | Response) -> str:
    contacts = message.headers.values("contact")
    if not contacts:
        raise LocalSipError("our own dialog-creating message needs a Contact (§8.1.1.8)")
    return contacts[0]


def _uas(
    request: Request,
    local_tag: str,
    local_party: NameAddr,
    remote_target: str,
    local_contact: str,
    local_seq: int | None,
    state: DialogState,
) -> Dialog:
    return Dialog(  # not cls(...): a direct call, compiled (no subclasses)
        call_id=request.call_id,
        local_tag=local_tag,
        remote_tag=request.from_tag or "",
        local_party=local_party,
        remote_party=request.from_,
        remote_target=remote_target,
        route_set=tuple(request.record_route),
        local_contact=local_contact,
        local_seq=local_seq,
        remote_seq=request.cseq.number,
        secure=_secure(request),
        state=state,
    )


def _state_for(response: Response) -> DialogState:
    return _state_for_status(response.status)


def _state_for_status(status: int) -> DialogState:
    if 100 < status < 200:
        return DialogState.EARLY
    if 200 <= status < 300:
        return DialogState.CONFIRMED
    raise LocalSipError(f"a {status} does not create a dialog (§12.1)")
