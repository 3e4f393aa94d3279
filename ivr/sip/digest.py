"""Server-side digest authentication for REGISTER (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760).

* Algorithms MD5 and SHA-256 (RFC 8760 brings SHA-256 to SIP), `qop=auth` only;
  a challenge offers SHA-256 first, one WWW-Authenticate per algorithm (RFC 7616
  §3.7). `-sess` variants, `auth-int` and `userhash` are not offered.
* Nonces are stateless: `base64url(timestamp ‖ salt ‖ HMAC-SHA256(secret, …))`.
  A nonce that verifies but is older than `nonce_ttl` earns `stale=true` when
  the digest itself is right (RFC 7616 §3.3), so the phone retries silently.
* Replay: the highest `nc` seen per nonce is kept until that nonce expires; a
  request that does not raise it is refused (RFC 7616 §3.4 / §5.12).
* Brute force: `FailureLimiter`, a token bucket per source address. When it is
  empty the request is answered 403 Forbidden without looking at the
  credentials. 403 because §21.4.4 says "Authorization will not help, and the
  request SHOULD NOT be repeated"; SIP has no "Too Many Requests" (SIP's 429 is
  RFC 3892 "Provide Referrer Identity") and 503 would tell clients the server
  is overloaded and send them to the next server (§21.5.4, RFC 3263).

Pure: `now` and `source` are parameters, randomness is an injected Random.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ivr.sip.errors import SipParseError
from ivr.sip.message import Request
from ivr.sip.values import quoted_end, unquote

_HASHES: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}
_NONCE = struct.Struct(">Q8s16s")  # issue time in ms, salt, truncated MAC


def hash_hex(algorithm: str, text: str) -> str:
    return _HASHES[algorithm](text.encode()).hexdigest()


def compute_ha1(algorithm: str, username: str, realm: str, password: str) -> str:
    return hash_hex(algorithm, f"{username}:{realm}:{password}")  # RFC 7616 §3.4.2


def digest_response(
    *,
    algorithm: str,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = "auth",
    nc: str = "",
    cnonce: str = "",
) -> str:
    """request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1 (qop=auth or none)."""
    ha2 = hash_hex(algorithm, f"{method}:{uri}")
    if qop is None:  # RFC 2069 compatibility form, for computing only
        return hash_hex(algorithm, f"{ha1}:{nonce}:{ha2}")
    return hash_hex(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def parse_digest(value: str) -> dict[str, str]:
    """`Digest k=v, k="v", ...` into a dict with lower-case keys (RFC 7616 §3.4)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SipParseError(f"not a Digest credential: {scheme!r}")
    params: dict[str, str] = {}
    i, text = 0, rest
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0:
            raise SipParseError("digest parameter without '='")
        name = text[i:eq].strip().lower()
        j = eq + 1
        while j < len(text) and text[j] in " \t":
            j += 1
        if j < len(text) and text[j] == '"':
            end = quoted_end(text, j)
            params[name], j = unquote(text[j:end]), end
        else:
            end = text.find(",", j)
            end = len(text) if end < 0 else end
            params[name], j = text[j:end].strip(), end
        if not name or " " in name:
            raise SipParseError("malformed digest parameter name")
        j = text.find(",", j)
        i = len(text) if j < 0 else j + 1
    return params


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What the caller's lookup returns: a password, or HA1 per algorithm."""

    password: str | None = None
    ha1: Mapping[str, str] = field(default_factory=dict)

    def ha1_for(self, algorithm: str, username: str, realm: str) -> str | None:
        if algorithm in self.ha1:
            return self.ha1[algorithm]
        if self.password is None:
            return None
        return compute_ha1(algorithm, username, realm, self.password)


CredentialLookup = Callable[[str, str], Credentials | None]  # (username, realm)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthResult:
    """200: proceed as `username`. 401: send `headers`. 403/400: refuse."""

    status: int
    reason: str
    username: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class FailureLimiter:
    """Token bucket per source address; each authentication failure takes a token.

    A source may fail `capacity` times in a burst, then one more time per
    `1 / refill_per_second` seconds. At most `max_sources` buckets are kept (the
    oldest are forgotten first) so a spoofed-address flood cannot grow memory.
    """

    def __init__(
        self, *, capacity: float = 10.0, refill_per_second: float = 0.1, max_sources: int = 10_000
    ) -> None:
        self.capacity = capacity
        self.rate = refill_per_second
        self.max_sources = max_sources
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, at

    def tokens(self, source: str, now: float) -> float:
        tokens, at = self._buckets.get(source, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.rate)

    def allowed(self, source: str, now: float) -> bool:
        return self.tokens(source, now) >= 1.0

    def retry_after(self, source: str, now: float) -> float:
        return max(0.0, (1.0 - self.tokens(source, now)) / self.rate)

    def record_failure(self, source: str, now: float) -> None:
        tokens = max(0.0, self.tokens(source, now) - 1.0)
        self._buckets[source] = (tokens, now)
        self._buckets.move_to_end(source)
        while len(self._buckets) > self.max_sources:
            self._buckets.popitem(last=False)


class DigestAuthenticator:
    """Challenges and checks `Authorization` on requests from one realm."""

    def __init__(
        self,
        *,
        realm: str,
        secret: bytes,
        lookup: CredentialLookup,
        rng: random.Random,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
        nonce_ttl: float = 300.0,
        limiter: FailureLimiter | None = None,
    ) -> None:
        unknown = set(algorithms) - set(_HASHES)
        if unknown or not algorithms:
            raise ValueError(f"unsupported digest algorithms {sorted(unknown)}")
        self.realm = realm
        self.algorithms = algorithms
        self.nonce_ttl = nonce_ttl
        self.limiter = limiter if limiter is not None else FailureLimiter()
        self._secret = secret
        self._lookup = lookup
        self._rng = rng
        self._seen_nc: OrderedDict[str, tuple[int, float]] = OrderedDict()  # nonce -> nc, expiry

    # -- nonces --------------------------------------------------------------------

    def make_nonce(self, now: float) -> str:
        stamp, salt = int(now * 1000), self._rng.getrandbits(64).to_bytes(8, "big")
        raw = _NONCE.pack(stamp, salt, self._mac(stamp, salt))
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def nonce_issued_at(self, nonce: str) -> float | None:
        """Issue time of a nonce we minted, or None if it is not ours."""
        try:
            raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
            stamp, salt, mac = _NONCE.unpack(raw)
        except (ValueError, struct.error):
            return None
        return stamp / 1000 if hmac.compare_digest(mac, self._mac(stamp, salt)) else None

    def _mac(self, stamp: int, salt: bytes) -> bytes:
        data = struct.pack(">Q", stamp) + salt + self.realm.encode()
        return hmac.new(self._secret, data, hashlib.sha256).digest()[:16]

    # -- challenge and check ---------------------------------------------------------

    def challenge(self, now: float, *, stale: bool = False) -> tuple[tuple[str, str], ...]:
        nonce = self.make_nonce(now)
        extra = ", stale=true" if stale else ""
        return tuple(
            (
                "WWW-Authenticate",
                f'Digest realm="{self.realm}", nonce="{nonce}", algorithm={alg}, qop="auth"{extra}',
            )
            for alg in self.algorithms
        )

    def check(self, request: Request, source: str, now: float) -> AuthResult:
        if not self.limiter.allowed(source, now):
            return AuthResult(
                status=403, reason="rate-limited", retry_after=self.limiter.retry_after(source, now)
            )
        params = self._our_credentials(request)
        if params is None:
            return self._challenge("no-credentials", now)
        if isinstance(params, SipParseError):
            return self._fail(source, now, "malformed-credentials", status=400)
        return self._verify(request, params, source, now)

    def _our_credentials(self, request: Request) -> dict[str, str] | SipParseError | None:
        for value in request.headers.get_all("authorization"):
            try:
                params = parse_digest(value)
            except SipParseError as exc:
                return exc
            if params.get("realm") == self.realm:
                return params
        return None

    def _verify(self, request: Request, p: dict[str, str], source: str, now: float) -> AuthResult:
        algorithm = p.get("algorithm", "MD5").upper()  # RFC 2617 §3.2.2: absent means MD5
        required = ("username", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if algorithm not in self.algorithms or any(k not in p for k in required):
            return self._fail(source, now, "unsupported-or-incomplete")
        if p["qop"] != "auth" or len(p["nc"]) != 8:
            return self._fail(source, now, "unsupported-or-incomplete")
        if p["uri"] != request.target:  # RFC 2617 §3.2.2.5
            return self._fail(source, now, "uri-mismatch", status=400)
        issued = self.nonce_issued_at(p["nonce"])
        if issued is None or issued > now:
            return self._fail(source, now, "unknown-nonce")
        if not self._digest_matches(request, p, algorithm):
            return self._fail(source, now, "wrong-credentials")
        if now - issued > self.nonce_ttl:
            return self._challenge("stale-nonce", now, stale=True)
        if not self._fresh_nc(p["nonce"], p["nc"], issued + self.nonce_ttl, now):
            return self._fail(source, now, "replayed-nc")
        return AuthResult(status=200, reason="ok", username=p["username"])

    def _digest_matches(self, request: Request, p: dict[str, str], algorithm: str) -> bool:
        credentials = self._lookup(p["username"], self.realm)
        ha1 = (
            None
            if credentials is None
            else credentials.ha1_for(algorithm, p["username"], self.realm)
        )
        if ha1 is None:
            return False
        expected = digest_response(
            algorithm=algorithm,
            ha1=ha1,
            nonce=p["nonce"],
            method=request.method,
            uri=p["uri"],
            nc=p["nc"],
            cnonce=p["cnonce"],
        )
        return hmac.compare_digest(expected, p["response"].lower())

    def _fresh_nc(self, nonce: str, nc_text: str, expires: float, now: float) -> bool:
        seen = self._seen_nc
        while seen:
            oldest = next(iter(seen))
            if seen[oldest][1] > now:
                break
            del seen[oldest]
        try:
            nc = int(nc_text, 16)
        except ValueError:
            return False
        last = seen.get(nonce, (0, expires))[0]
        if nc <= last:
            return False
        seen[nonce] = (nc, expires)
        return True

    def _challenge(self, reason: str, now: float, *, stale: bool = False) -> AuthResult:
        return AuthResult(status=401, reason=reason, headers=self.challenge(now, stale=stale))

    def _fail(self, source: str, now: float, reason: str, *, status: int = 401) -> AuthResult:
        self.limiter.record_failure(source, now)
        if status == 401:
            return self._challenge(reason, now)
        return AuthResult(status=status, reason=reason)
