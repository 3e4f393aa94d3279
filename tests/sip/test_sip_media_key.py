"""`sdp_cache.media_key` reads `LocalMedia`'s fields one by one: the same as `KEY_FIELDS`.

`test_sip_sdp_cache` holds `KEY_FIELDS` to every field but the port; this holds
the spelled-out key to `KEY_FIELDS`, so a field added to `LocalMedia` fails here
until the key reads it too (else a cached answer would ignore it).
"""

from __future__ import annotations

from ivr.sip.offer_answer import LocalMedia
from ivr.sip.sdp_cache import KEY_FIELDS, media_key


def test_the_key_is_every_key_field_in_order() -> None:
    local = LocalMedia(
        address="192.0.2.7",
        port=41000,
        codecs=("PCMA",),
        telephone_events=None,
        dtmf_payload_type=96,
        ptime=30,
        direction="sendonly",
        session_id=8,
        session_version=2,
        username="other",
    )
    assert media_key(local) == tuple(getattr(local, name) for name in KEY_FIELDS)


def test_the_port_is_not_in_the_key() -> None:
    one = LocalMedia(address="192.0.2.7", port=41000)
    other = LocalMedia(address="192.0.2.7", port=41002)
    assert media_key(one) == media_key(other)
