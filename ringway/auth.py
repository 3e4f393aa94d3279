"""Who is calling the API, and what they may do.

* Passwords: ``pbkdf2_sha256$iterations$salt_b64$hash_b64`` (PBKDF2-HMAC-SHA256,
  per-user salt, `hash_password`). A user's password comes from its
  ``password_hash`` in the config, else from the environment variable its
  ``password_env`` names, else a random one generated at start and handed to
  ``ringway serve`` to print (secure by default: no demo passwords in files).
* Tokens: stateless bearer tokens ``rw1.<payload>.<signature>``, HMAC-SHA256
  over the JSON payload ``{sub, role, exp}``. The secret comes from the
  environment variable named by ``service.token_secret_env``; without it a
  random secret is drawn at every start, so **restarting the service
  invalidates every token** (users log in again).
* The admin token: from ``service.admin_token_env``, else generated at start and
  printed. Integrations (IVR, SIP edge, CRM sync) use it.
* Roles are ordered agent < supervisor < admin. Every route depends on
  `require` (or `require_self_or`), so none can be reached without a check;
  an agent may act only on their own agent id.

Dependencies here are ``async def`` on purpose: FastAPI runs plain ``def``
dependencies on a worker thread, and nothing in the service may run off the
event loop thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ringway.config import RingwayConfig, UserDef

ALGORITHM = "pbkdf2_sha256"
# OWASP Password Storage Cheat Sheet (2023): 600,000 for PBKDF2-HMAC-SHA256.
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 200_000
TOKEN_PREFIX = "rw1"
ADMIN_ID = "admin"


class Role(IntEnum):
    AGENT = 1
    SUPERVISOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class AuthError(Exception):
    """No or bad credentials: HTTP 401 (the edges map ``status`` like RoutingError)."""

    code = "unauthorized"
    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(AuthError):
    code = "forbidden"
    status = 403


# --------------------------------------------------------------------- passwords


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """A ``password_hash`` value for the config (what ``ringway hash-password`` prints)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${_b64(salt)}${_b64(digest)}"


def check_hash_format(encoded: str) -> tuple[int, bytes, bytes]:
    """Parse a stored hash; ValueError names what is wrong (a config mistake)."""
    parts = encoded.split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        raise ValueError(f"password_hash must look like {ALGORITHM}$iterations$salt$hash")
    try:
        iterations, salt, digest = int(parts[1]), _unb64(parts[2]), _unb64(parts[3])
    except ValueError:
        raise ValueError("password_hash: iterations, salt or hash is not readable") from None
    if iterations < MIN_ITERATIONS:
        raise ValueError(f"password_hash: {iterations} iterations is below {MIN_ITERATIONS}")
    return iterations, salt, digest


def verify_password(password: str, encoded: str) -> bool:
    iterations, salt, digest = check_hash_format(encoded)
    given = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return hmac.compare_digest(given, digest)


@dataclass
class _Credential:
    """One user's password check. A plain password (env or generated) is hashed on first use,
    so building an app costs no key stretching and every login costs about the same."""

    encoded: str | None = None
    plain: str | None = field(default=None, repr=False)

    def verify(self, password: str) -> bool:
        if self.encoded is None:
            self.encoded = hash_password(self.plain or "")
            self.plain = None
        return verify_password(password, self.encoded)


# ------------------------------------------------------------------------ tokens


@dataclass(frozen=True, slots=True)
class Principal:
    id: str
    role: Role

    def has(self, role: Role) -> bool:
        return self.role >= role

    def may_act_for(self, agent_id: str, role: Role) -> bool:
        """True for the agent themself, or anyone holding ``role``."""
        return self.id == agent_id or self.has(role)


class Authenticator:
    def __init__(
        self,
        config: RingwayConfig,
        env: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        service = config.service
        self.ttl_s = service.token_ttl_s
        self._clock = clock
        secret = env.get(service.token_secret_env)
        self._secret = secret.encode() if secret else secrets.token_bytes(32)
        self.admin_token = env.get(service.admin_token_env) or secrets.token_urlsafe(32)
        self.generated_passwords: dict[str, str] = {}
        self._roles: dict[str, Role] = {}
        self._credentials: dict[str, _Credential] = {}
        for user in config.users:
            self._add_user(user, env)
        self._dummy = _Credential(plain=secrets.token_urlsafe(16))

    def _add_user(self, user: UserDef, env: Mapping[str, str]) -> None:
        self._roles[user.id] = Role[user.role.upper()]
        if user.password_hash:
            try:
                check_hash_format(user.password_hash)
            except ValueError as exc:
                raise ValueError(f"user {user.id}: {exc}") from None
            self._credentials[user.id] = _Credential(encoded=user.password_hash)
        elif user.password_env and env.get(user.password_env):
            self._credentials[user.id] = _Credential(plain=env[user.password_env])
        else:
            password = secrets.token_urlsafe(12)
            self.generated_passwords[user.id] = password
            self._credentials[user.id] = _Credential(plain=password)

    def login(self, user_id: str, password: str) -> tuple[str, Role, float]:
        """(token, role, expires_at); the same AuthError for unknown users and bad passwords."""
        credential = self._credentials.get(user_id)
        # An unknown user still pays one key stretch, so timing does not tell who exists.
        ok = (credential or self._dummy).verify(password) and credential is not None
        if not ok:
            raise AuthError("unknown user or wrong password")
        role = self._roles[user_id]
        token, expires_at = self.issue(user_id, role)
        return token, role, expires_at

    def issue(self, user_id: str, role: Role, ttl_s: float | None = None) -> tuple[str, float]:
        expires_at = self._clock() + (self.ttl_s if ttl_s is None else ttl_s)
        payload = json.dumps({"sub": user_id, "role": role.label, "exp": expires_at})
        body = _b64(payload.encode())
        return f"{TOKEN_PREFIX}.{body}.{self._sign(body)}", expires_at

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise AuthError("missing bearer token (Authorization: Bearer <token>)")
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return Principal(ADMIN_ID, Role.ADMIN)
        prefix, _, rest = token.partition(".")
        body, _, signature = rest.partition(".")
        if prefix != TOKEN_PREFIX or not hmac.compare_digest(signature, self._sign(body)):
            raise AuthError("invalid token")
        claims = _claims(body)
        if claims["exp"] <= self._clock():
            raise AuthError("token expired; log in again")
        return Principal(claims["sub"], Role[claims["role"].upper()])

    def authorize(self, token: str | None, role: Role) -> Principal:
        """The token's principal, if it holds at least ``role`` (else AuthError / Forbidden)."""
        principal = self.authenticate(token)
        if not principal.has(role):
            raise Forbidden(f"this needs the {role.label} role; you are {principal.role.label}")
        return principal


def _claims(body: str) -> dict[str, Any]:
    # Signed by us, so a parse failure means a key change mid-format: treat as invalid.
    try:
        claims: dict[str, Any] = json.loads(_unb64(body))
        Role[str(claims["role"]).upper()]
        float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise AuthError("invalid token") from None
    return claims


# ------------------------------------------------------------------ dependencies

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/login")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Check = Callable[..., Coroutine[Any, Any, Principal]]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header value (None if absent/other)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def require(role: Role) -> Check:
    """Dependency: a valid token holding at least ``role``."""

    async def check(request: Request, credentials: Bearer) -> Principal:
        auth: Authenticator = request.app.state.auth
        return auth.authorize(_token(credentials), role)

    check.required_role = role  # type: ignore[attr-defined]  # read by the route audit test
    return check


def require_self_or(role: Role) -> Check:
    """Dependency for ``/agents/{agent_id}/…``: that agent themself, or ``role`` and above."""

    async def check(request: Request, agent_id: str, credentials: Bearer) -> Principal:
        auth: Authenticator = request.app.state.auth
        principal = auth.authenticate(_token(credentials))
        if not principal.may_act_for(agent_id, role):
            raise Forbidden(f"{principal.id} may not act for agent {agent_id}")
        return principal

    check.required_role = Role.AGENT  # type: ignore[attr-defined]
    return check
