"""The SIP core's one exception tree.

Two branches, as h11 has them:

* `RemoteSipError` -- the peer sent something we cannot accept. It carries the
  status to answer with (RFC 3261 §21) and whether an answer is possible at all
  (a request without a usable Via cannot be answered, §18.2.2; a bad response is
  never answered, it is discarded, §18.1.2).
* `LocalSipError` -- our own caller misused the API (sent a 180 after a 200,
  built a request without a branch). A bug here, never the peer's fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.sip.headers import Headers


class SipError(Exception):
    """Base of everything the SIP core raises."""


class LocalSipError(SipError):
    """The transaction user asked for something the protocol forbids."""


class RemoteSipError(SipError):
    """The peer's message cannot be accepted; answer it with `status`."""

    status = 400
    reason = "Bad Request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        can_respond: bool = True,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if reason is not None:
            self.reason = reason
        self.can_respond = can_respond

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status} {self.reason}: {self.detail})"


class SipParseError(RemoteSipError):
    """Bytes that are not a SIP message we accept (§7, §25, §18.3).

    `headers` holds what could be parsed of the head, so an error response can
    copy Via, From, To, Call-ID and CSeq (§8.2.6.2). `can_respond` is False when
    there is no request with a Via to send the response along.
    """

    def __init__(
        self,
        detail: str,
        *,
        status: int = 400,
        reason: str | None = None,
        can_respond: bool = False,
        headers: Headers | None = None,
    ) -> None:
        super().__init__(
            detail,
            status=status,
            reason=reason or _REASONS.get(status, "Bad Request"),
            can_respond=can_respond,
        )
        self.headers = headers


class SdpError(RemoteSipError):
    """A session description we cannot parse (RFC 4566): answer 400."""


class NoCommonCodec(RemoteSipError):
    """No offered stream can be accepted (RFC 3264 §6): answer 488."""

    status = 488
    reason = "Not Acceptable Here"


class CallDoesNotExist(RemoteSipError):
    """An in-dialog request for a dialog we do not know (§12.2.2): answer 481."""

    status = 481
    reason = "Call/Transaction Does Not Exist"


class OutOfOrderRequest(RemoteSipError):
    """CSeq lower than the dialog's remote sequence number (§12.2.2): answer 500."""

    status = 500
    reason = "Server Internal Error"


_REASONS = {
    400: "Bad Request",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Unsupported URI Scheme",
    505: "Version Not Supported",
}
