"""One exception tree for `ivr.media` (STYLE habit 7)."""


class MediaError(Exception):
    """Base of every error raised by `ivr.media`."""


class RtpParseError(MediaError):
    """A datagram that is not a valid RTP packet: counted and dropped, never a crash."""


class DtmfParseError(MediaError):
    """An RFC 4733 payload or SIP INFO DTMF body that cannot be read."""


class WavFormatError(MediaError):
    """A WAV prompt this module cannot convert to 8 kHz mono 16-bit."""
