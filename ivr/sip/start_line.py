"""What a SIP start line is made of (RFC 3261 §7.1, §7.2, §25.1): tokens, the methods,
the status line's opening. Apart from `ivr.sip.message` (which imports these names), so
that module stays under the length its purity test holds it to."""

from __future__ import annotations

import re
from typing import Final

# token (§25.1): alphanum and -.!%*_+`'~
TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+").fullmatch


def is_token(text: str) -> bool:
    return TOKEN(text) is not None


def is_status_line(start: str) -> bool:
    """Whether a start line opens with "SIP/" in any case (§7.2; a request opens with
    its method). The first character is read inline: an ASCII one other than "S" or
    "s" (a method's) rules it out without the slice and upper-cased copy; any other
    goes to the full check (U+017F, long s, upper-cases to "S")."""
    first = ord(start[0]) if start else 0
    if first < 0x80 and first | 0x20 != 0x73:
        return False
    return start[:4].upper() == "SIP/"


# The methods of RFC 3261 and its extensions: tokens, so a start line naming one
# needs no pattern match (§25.1 Method). One string split: fourteen lines otherwise.
_METHOD_NAMES = "INVITE ACK BYE CANCEL OPTIONS REGISTER PRACK SUBSCRIBE NOTIFY PUBLISH INFO"
METHODS: Final = frozenset(f"{_METHOD_NAMES} REFER MESSAGE UPDATE".split())
