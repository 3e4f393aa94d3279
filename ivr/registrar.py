"""A registrar for the contact centre's extensions (RFC 3261 §10.3), sans-I/O.

    registrar = Registrar(credentials={"1001": "secret"}, realm="ringway", secret=key, rng=rng)
    response = registrar.handle(register_request, source_host, now)
    registrar.contacts_for("1001", now)   # -> ["sip:1001@192.0.2.7:5062", ...]

Rules (§10.3, in its step order):

* Authenticate with digest (§22, RFC 2617/7616 via `DigestAuthenticator`):
  401 with a challenge, 403 once a source's failure bucket is empty
  (`FailureLimiter`), 400 for malformed credentials. The authenticated user
  must be the To user -- the AOR (§10.3 step 6) -- else 403.
* Expiry per contact: its `expires` param, else the Expires header, else
  `default_expires` (§10.2.1.1); 0 removes the binding; anything below
  `min_expires` is refused with 423 + Min-Expires (§10.3 step 7, §20.23); above
  `max_expires` it is shortened.
* `Contact: *` with `Expires: 0` removes every binding of the AOR; `*` with any
  other expiry or with other contacts is a 400 (§10.3 step 6).
* A request whose Call-ID matches a binding's and whose CSeq is not higher is
  an out-of-order update: that binding is left alone (§10.3 step 7).
* The 200 lists every current binding with its remaining `expires` (§10.3 step 8).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.sip.builders import make_response, stateless_tag
from ivr.sip.digest import Credentials, DigestAuthenticator, FailureLimiter
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, Response
from ivr.sip.values import NameAddr


@dataclass(slots=True)
class Binding:
    uri: str
    expires_at: float
    call_id: str
    cseq: int


class Registrar:
    def __init__(
        self,
        *,
        credentials: Mapping[str, str],
        realm: str,
        secret: bytes,
        rng: random.Random,
        algorithms: tuple[str, ...] = ("MD5",),
        min_expires: int = 60,
        max_expires: int = 3600,
        default_expires: int = 3600,
        nonce_ttl: float = 300.0,
        limiter: FailureLimiter | None = None,
    ) -> None:
        self.credentials = credentials
        self.min_expires = min_expires
        self.max_expires = max_expires
        self.default_expires = default_expires
        self.auth = DigestAuthenticator(
            realm=realm,
            secret=secret,
            lookup=self._lookup,
            rng=rng,
            algorithms=algorithms,
            nonce_ttl=nonce_ttl,
            limiter=limiter,
        )
        self._bindings: dict[str, dict[str, Binding]] = {}

    def _lookup(self, username: str, realm: str) -> Credentials | None:
        password = self.credentials.get(username)
        return None if password is None else Credentials(password=password)

    # -- lookups ---------------------------------------------------------------------

    def contacts_for(self, extension: str, now: float) -> list[str]:
        """The extension's live contact URIs, latest expiry first."""
        live = [b for b in self._bindings.get(extension, {}).values() if b.expires_at > now]
        return [b.uri for b in sorted(live, key=lambda b: -b.expires_at)]

    # -- REGISTER --------------------------------------------------------------------

    def handle(self, request: Request, source: str, now: float) -> Response:
        result = self.auth.check(request, source, now)
        if not result.ok:
            headers = list(result.headers)
            if result.retry_after is not None:
                headers.append(("Retry-After", str(int(result.retry_after) + 1)))
            return self._reply(request, result.status, headers)
        aor = request.to.parsed_uri().user or ""
        if aor != result.username:  # §10.3 step 6: may this user register this AOR?
            return self._reply(request, 403)
        try:
            return self._update(request, aor, now)
        except (SipParseError, ValueError):
            return self._reply(request, 400)

    def _update(self, request: Request, aor: str, now: float) -> Response:
        contacts = request.contacts
        header = request.headers.get("expires")
        default = self.default_expires if header is None else int(header.strip())
        if any(c.uri == "*" for c in contacts):
            if len(contacts) != 1 or default != 0:  # §10.3 step 6
                return self._reply(request, 400)
            self._bindings.pop(aor, None)
            return self._ok(request, aor, now)
        wanted = [(c, self._expiry(c, default)) for c in contacts]
        if any(0 < e < self.min_expires for _, e in wanted):
            return self._reply(request, 423, [("Min-Expires", str(self.min_expires))])
        bindings = self._bindings.setdefault(aor, {})
        for contact, expires in wanted:
            self._apply(bindings, contact, expires, request, now)
        if not bindings:
            del self._bindings[aor]
        return self._ok(request, aor, now)

    def _expiry(self, contact: NameAddr, default: int) -> int:
        value = contact.param("expires")
        expires = default if value is None else int(value)
        if expires < 0:
            raise ValueError("negative expires")
        return min(expires, self.max_expires)

    def _apply(
        self,
        bindings: dict[str, Binding],
        contact: NameAddr,
        expires: int,
        request: Request,
        now: float,
    ) -> None:
        old = bindings.get(contact.uri)
        call_id, cseq = request.call_id, request.cseq.number
        if old is not None and old.call_id == call_id and old.cseq >= cseq:
            return  # out of order (§10.3 step 7)
        if expires == 0:
            bindings.pop(contact.uri, None)
        else:
            bindings[contact.uri] = Binding(contact.uri, now + expires, call_id, cseq)

    def _ok(self, request: Request, aor: str, now: float) -> Response:
        live = [b for b in self._bindings.get(aor, {}).values() if b.expires_at > now]
        headers = [("Contact", f"<{b.uri}>;expires={remaining_s(b, now)}") for b in live]
        return self._reply(request, 200, headers)

    def _reply(
        self, request: Request, status: int, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        tag = stateless_tag(request.headers)
        return make_response(request, status, to_tag=tag, headers=headers or ())


def remaining_s(binding: Binding, now: float) -> int:
    """Whole seconds left on a live binding, for the 200's Contact list (§10.3 step 8).

    Rounded, not truncated: ``(now + 120) - now`` is 119.99999999999955 for some clock
    readings, and a binding just granted 120 s must be listed with 120. Never 0 while
    the binding lives: ``expires=0`` reads as a removal.
    """
    return max(1, round(binding.expires_at - now))
