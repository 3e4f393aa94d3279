"""The SDP answer to an offer, remembered for the next byte-identical offer.

Building an answer (parse the offer, negotiate, serialise: RFC 3264 §6) cost
about a tenth of the edge's work per call, and a trunk or a load generator
sends the same offer bytes call after call. The answer depends only on the
offer's bytes and our `LocalMedia` (the origin line's session id and version
come from `LocalMedia`, not from the call), so the same pair gives the same
answer: the bytes and the `Negotiated` record, both immutable, are shared.
Offers that fail (488, 400) are not remembered: they raise every time.
"""

from __future__ import annotations

from ivr.sip.offer_answer import LocalMedia, Negotiated, answer, make_offer
from ivr.sip.sdp import parse_sdp

_MAX_ENTRIES = 512  # distinct offers remembered; a flood of random offers only resets it


class AnswerCache:
    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._answers: dict[tuple[LocalMedia, bytes], tuple[bytes, Negotiated | None]] = {}
        self.hits = 0

    def answer(self, offer: bytes, local: LocalMedia) -> tuple[bytes, Negotiated | None]:
        """Our SDP for an INVITE body: the answer to its offer, or our offer if it has none.

        Raises `RemoteSipError` (NoCommonCodec → 488, bad SDP → 400) like `answer`."""
        key = (local, offer)
        found = self._answers.get(key)
        if found is not None:
            self.hits += 1
            return found
        if offer:
            result = answer(parse_sdp(offer), local)
            made: tuple[bytes, Negotiated | None] = (result.sdp.serialise(), result.media)
        else:
            made = (make_offer(local).serialise(), None)
        if len(self._answers) >= self.max_entries:
            self._answers.clear()
        self._answers[key] = made
        return made
