"""Sans-I/O media for the IVR: RTP (RFC 3550), G.711, RFC 4733 DTMF, playback,
recording and a B2BUA relay. Only `endpoint.py` touches asyncio."""

from router._native import use_native

use_native(__path__, __name__)  # the playback path may load compiled (docs/native-build.md)
