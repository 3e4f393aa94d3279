"""Telephony edge: SIP/RTP, IVR flows and call legs (arrives with the telephony issue)."""

from router._native import use_native

use_native(__path__, __name__)  # the edge and transport may load compiled (docs/native-build.md)
