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


def same_media(one: LocalMedia, other: LocalMedia) -> bool:
    """`media_key(one) == media_key(other)`, field by field, without building the keys
    (compiled: native compares; a call's fields are mostly the last call's objects,
    which compare at once)."""
    return (
        one.address == other.address
        and one.codecs == other.codecs
        and one.telephone_events == other.telephone_events
        and one.dtmf_payload_type == other.dtmf_payload_type
        and one.ptime == other.ptime
        and one.direction == other.direction
        and one.session_id == other.session_id
        and one.session_version == other.session_version
        and one.username == other.username
    )


class AnswerCache:
    def __init__(self, max_entries: int = _MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        # By `media_key`, then by offer bytes: a call whose media is the last call's
        # (`same_media`) hashes its offer only, not a key tuple of nine fields built
        # and hashed again for every call.
        self._answers: dict[tuple[object, ...], dict[bytes, _Entry]] = {}
        self._size = 0  # answers kept, across all media
        self._last: tuple[LocalMedia, dict[bytes, _Entry]] | None = None
        self.hits = 0

    def answer(self, offer: bytes, local: LocalMedia) -> tuple[bytes, Negotiated | None]:
        """Our SDP for an INVITE body: the answer to its offer, or our offer if it has none.

        Raises `RemoteSipError` (NoCommonCodec → 488, bad SDP → 400) like `answer`."""
        answers = self._for_media(local)
        found = answers.get(offer)
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
        if self._size >= self.max_entries:
            self._answers.clear()
            self._size = 0
            self._last = None
            answers = self._for_media(local)
        before, after = sdp.serialise_around_port(ours[0])
        answers[offer] = (before, after, negotiated)
        self._size += 1
        return data, negotiated

    def _for_media(self, local: LocalMedia) -> dict[bytes, _Entry]:
        """The answers kept for `local`'s `media_key` (made empty if none)."""
        last = self._last
        if last is not None and same_media(last[0], local):
            return last[1]
        key = media_key(local)
        answers = self._answers.get(key)
        if answers is None:
            answers = self._answers[key] = {}
        self._last = (local, answers)
        return answers
