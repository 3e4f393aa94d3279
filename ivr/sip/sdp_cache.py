"""The SDP answer to an offer, remembered for the next byte-identical offer.

Building an answer (parse the offer, negotiate, serialise: RFC 3264 §6) cost
about a tenth of the edge's work per call, and a trunk or a load generator
sends the same offer bytes call after call. The answer depends only on the
offer's bytes and our `LocalMedia`, and of `LocalMedia` the RTP port only
appears in our stream's m= line (the origin line's session id and version come
from `LocalMedia`, not from the call; the `Negotiated` record holds the far
end's address and port, never ours). The B2BUA answers every call from its own
RTP port, so the cache is keyed on the offer and every other `LocalMedia`
field, and keeps the answer cut where the port goes: a hit writes this call's
port between the two halves. The `Negotiated` record, immutable, is shared.
Offers that fail (488, 400) are not remembered: they raise every time.
"""

from __future__ import annotations

from dataclasses import fields

from ivr.sip.offer_answer import LocalMedia, Negotiated, answer, make_offer
from ivr.sip.sdp import SessionDescription, parse_sdp

_MAX_ENTRIES = 512  # distinct offers remembered; a flood of random offers only resets it
# Every `LocalMedia` field but the port: a field added later is in the key by itself.
KEY_FIELDS = tuple(f.name for f in fields(LocalMedia) if f.name != "port")

_Key = tuple[bytes, tuple[object, ...]]
# (the answer up to our port, the answer after it, the negotiated media)
_Entry = tuple[bytes, bytes, Negotiated | None]


def media_key(local: LocalMedia) -> tuple[object, ...]:
    """What of `local` an answer depends on, besides the port: the `KEY_FIELDS`.

    Read one by one (compiled: native attribute reads), not by `getattr` over
    `KEY_FIELDS` (a generic look-up each, nine a call); tests/sip/test_sip_sdp_cache.py
    holds the two to the same values, so a field added to `LocalMedia` fails there
    until it is added here."""
    return (
        local.address,
        local.codecs,
        local.telephone_events,
        local.dtmf_payload_type,
        local.ptime,
        local.direction,
        local.session_id,
        local.session_version,
        local.username,
    )


class AnswerCache:
    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._answers: dict[_Key, _Entry] = {}
        self.hits = 0

    def answer(self, offer: bytes, local: LocalMedia) -> tuple[bytes, Negotiated | None]:
        """Our SDP for an INVITE body: the answer to its offer, or our offer if it has none.

        Raises `RemoteSipError` (NoCommonCodec → 488, bad SDP → 400) like `answer`."""
        key = (offer, media_key(local))
        found = self._answers.get(key)
        if found is not None:
            self.hits += 1
            before, after, negotiated = found
            return before + str(local.port).encode() + after, negotiated
        sdp: SessionDescription
        negotiated = None
        if offer:
            result = answer(parse_sdp(offer), local)
            sdp, negotiated = result.sdp, result.media
        else:
            sdp = make_offer(local)
        data = sdp.serialise()
        ours = [i for i, m in enumerate(sdp.media) if m.port == local.port]
        if local.port == 0 or len(ours) != 1:  # no one m= line that is ours: not kept
            return data, negotiated
        if len(self._answers) >= self.max_entries:
            self._answers.clear()
        before, after = sdp.serialise_around_port(ours[0])
        self._answers[key] = (before, after, negotiated)
        return data, negotiated
