"""Telephony edge: SIP/RTP, IVR flows and call legs (arrives with the telephony issue)."""
