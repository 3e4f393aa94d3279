"""Server-side digest for REGISTER (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ivr.sip.digest import (
    Credentials,
    DigestAuthenticator,
    FailureLimiter,
    compute_ha1,
    digest_response,
    parse_digest,
)
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request, Response, parse_message

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = b"ringway-fixture-secret"  # what minted the nonce in uas_register.xml, at now=1000
USERS = {"1001": "secret1001"}
SOURCE = "127.0.0.1"


def lookup(username: str, realm: str) -> Credentials | None:
    password = USERS.get(username)
    return None if password is None else Credentials(password=password)


def authenticator(**kwargs: object) -> DigestAuthenticator:
    options: dict[str, object] = {
        "realm": "ringway.test",
        "secret": SECRET,
        "lookup": lookup,
        "rng": random.Random(7),
    }
    options.update(kwargs)
    return DigestAuthenticator(**options)  # type: ignore[arg-type]


def captured(name: str) -> Request:
    message = parse_message((FIXTURES / name).read_bytes())
    assert isinstance(message, Request)
    return message


def signed(auth: DigestAuthenticator, now: float, *, password: str = "secret1001",
           algorithm: str = "SHA-256", nc: str = "00000001",
           nonce: str | None = None) -> Request:  # fmt: skip
    """A REGISTER carrying credentials computed the way a phone would."""
    register = captured("register/01-REGISTER.sip")
    nonce = nonce or auth.make_nonce(now)
    ha1 = compute_ha1(algorithm, "1001", "ringway.test", password)
    response = digest_response(algorithm=algorithm, ha1=ha1, nonce=nonce, method="REGISTER",
                               uri=register.target, nc=nc, cnonce="0a4f113b")  # fmt: skip
    register.headers.add(
        "Authorization",
        f'Digest username="1001", realm="ringway.test", nonce="{nonce}", uri="{register.target}", '
        f'response="{response}", algorithm={algorithm}, qop=auth, nc={nc}, cnonce="0a4f113b"',
    )
    return register


# -- known vectors ---------------------------------------------------------------------


def test_rfc2617_3_5_example_response() -> None:
    ha1 = compute_ha1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life")
    response = digest_response(
        algorithm="MD5",
        ha1=ha1,
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method="GET",
        uri="/dir/index.html",
        nc="00000001",
        cnonce="0a4f113b",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_3_9_1_example_responses(algorithm: str, expected: str) -> None:
    ha1 = compute_ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    response = digest_response(
        algorithm=algorithm,
        ha1=ha1,
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        method="GET",
        uri="/dir/index.html",
        nc="00000001",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert response == expected


# -- the captured sipp registration -----------------------------------------------------


def test_rfc2617_sipps_captured_credentials_verify() -> None:
    auth = authenticator()
    result = auth.check(captured("register/03-REGISTER.sip"), SOURCE, 1010.0)
    assert (result.status, result.username, result.reason) == (200, "1001", "ok")


def test_rfc7616_stored_ha1_instead_of_a_password() -> None:
    ha1 = compute_ha1("MD5", "1001", "ringway.test", "secret1001")
    auth = authenticator(lookup=lambda u, r: Credentials(ha1={"MD5": ha1}))
    assert auth.check(captured("register/03-REGISTER.sip"), SOURCE, 1010.0).ok


def test_rfc7616_3_3_our_challenge_is_what_sipp_answered() -> None:
    challenge = parse_message((FIXTURES / "register/02-401.sip").read_bytes())
    assert isinstance(challenge, Response)
    theirs = parse_digest(challenge.headers.get("WWW-Authenticate") or "")
    assert authenticator().nonce_issued_at(theirs["nonce"]) == 1000.0
    ours = [parse_digest(v) for _, v in authenticator().challenge(1000.0)]
    assert [c["algorithm"] for c in ours] == ["SHA-256", "MD5"]  # RFC 7616 §3.7: preferred first
    assert {c["realm"] for c in ours} == {theirs["realm"]} and {c["qop"] for c in ours} == {"auth"}


def test_sip_22_4_no_credentials_gets_a_challenge_and_costs_nothing() -> None:
    auth = authenticator(limiter=FailureLimiter(capacity=1))
    for _ in range(5):
        result = auth.check(captured("register/01-REGISTER.sip"), SOURCE, 1.0)
        assert result.status == 401 and result.reason == "no-credentials"
        assert [name for name, _ in result.headers] == ["WWW-Authenticate"] * 2


def test_rfc2617_3_2_2_5_digest_uri_must_be_the_request_uri() -> None:
    # sipp by default put its peer's address in uri= (captured as-is).
    result = authenticator().check(
        captured("invalid/sipp_digest_uri_not_request_uri.sip"), SOURCE, 1010.0
    )
    assert (result.status, result.reason) == (400, "uri-mismatch")


# -- failures ---------------------------------------------------------------------------


def test_rfc7616_3_4_sha256_round_trip_and_wrong_password() -> None:
    auth = authenticator()
    assert auth.check(signed(auth, 50.0), SOURCE, 51.0).ok
    wrong = auth.check(signed(auth, 50.0, password="guess"), SOURCE, 51.0)
    assert (wrong.status, wrong.reason) == (401, "wrong-credentials")
    assert "stale" not in wrong.headers[0][1]


def test_rfc7616_unknown_user_looks_like_a_wrong_password() -> None:
    auth = authenticator(lookup=lambda u, r: None)
    result = auth.check(signed(auth, 50.0), SOURCE, 51.0)
    assert (result.status, result.reason) == (401, "wrong-credentials")


def test_rfc7616_3_3_expired_nonce_with_right_digest_is_stale() -> None:
    auth = authenticator(nonce_ttl=300.0)
    result = auth.check(captured("register/03-REGISTER.sip"), SOURCE, 1000.0 + 301.0)
    assert (result.status, result.reason) == (401, "stale-nonce")
    assert all("stale=true" in value for _, value in result.headers)
    assert auth.limiter.tokens(SOURCE, 1301.0) == auth.limiter.capacity  # not a failure


def test_rfc7616_3_3_expired_nonce_with_wrong_digest_is_not_stale() -> None:
    auth = authenticator(nonce_ttl=10.0)
    result = auth.check(signed(auth, 50.0, password="guess"), SOURCE, 100.0)
    assert result.reason == "wrong-credentials" and "stale" not in result.headers[0][1]


def test_rfc7616_5_12_replayed_nonce_count_is_refused() -> None:
    auth = authenticator()
    request = captured("register/03-REGISTER.sip")
    assert auth.check(request, SOURCE, 1010.0).ok
    replay = auth.check(captured("register/03-REGISTER.sip"), SOURCE, 1011.0)
    assert (replay.status, replay.reason) == (401, "replayed-nc")


def test_rfc7616_nonce_count_must_grow_per_nonce() -> None:
    auth = authenticator()
    nonce = auth.make_nonce(50.0)
    assert auth.check(signed(auth, 50.0, nc="00000002", nonce=nonce), SOURCE, 51.0).ok
    lower = auth.check(signed(auth, 50.0, nc="00000001", nonce=nonce), SOURCE, 52.0)
    assert lower.reason == "replayed-nc"
    assert auth.check(signed(auth, 50.0, nc="00000003", nonce=nonce), SOURCE, 53.0).ok


def test_rfc7616_forged_or_future_nonces_are_refused() -> None:
    other = authenticator(secret=b"someone else")
    assert authenticator().check(signed(other, 50.0), SOURCE, 51.0).reason == "unknown-nonce"
    auth = authenticator()
    assert auth.check(signed(auth, 500.0), SOURCE, 51.0).reason == "unknown-nonce"


@pytest.mark.parametrize(
    ("edit", "reason", "status"),
    [
        (lambda v: v.replace("qop=auth, ", ""), "unsupported-or-incomplete", 401),
        (
            lambda v: v.replace("algorithm=SHA-256", "algorithm=SHA-512-256"),
            "unsupported-or-incomplete",
            401,
        ),
        (lambda v: v.replace("nc=00000001", "nc=1"), "unsupported-or-incomplete", 401),
        (lambda v: v.replace("Digest ", "Basic "), "malformed-credentials", 400),
        (lambda v: v + ", broken", "malformed-credentials", 400),
        (lambda v: v.replace('cnonce="0a4f113b"', 'cnonce="0a4f'), "malformed-credentials", 400),
    ],
)
def test_rfc7616_3_4_incomplete_or_malformed_credentials(edit, reason: str, status: int) -> None:  # type: ignore[no-untyped-def]
    auth = authenticator()
    request = signed(auth, 50.0)
    request.headers.set("Authorization", edit(request.headers.get("Authorization")))
    result = auth.check(request, SOURCE, 51.0)
    assert (result.reason, result.status) == (reason, status)


def test_parse_digest_handles_quoted_commas() -> None:
    params = parse_digest('Digest realm="a, b", qop="auth,auth-int", nc=00000001')
    assert params == {"realm": "a, b", "qop": "auth,auth-int", "nc": "00000001"}
    with pytest.raises(SipParseError):
        parse_digest('Digest realm="open')


# -- the failure limiter (token bucket per source) ---------------------------------------


def test_sip_21_4_4_a_flood_of_failures_from_one_address_is_forbidden() -> None:
    auth = authenticator(limiter=FailureLimiter(capacity=3, refill_per_second=0.1))
    for _ in range(3):
        assert auth.check(signed(auth, 50.0, password="guess"), SOURCE, 51.0).status == 401
    blocked = auth.check(signed(auth, 50.0), SOURCE, 51.0)  # even the right password
    assert (blocked.status, blocked.reason) == (403, "rate-limited")
    assert blocked.retry_after == pytest.approx(10.0)
    assert auth.check(signed(auth, 50.0), "192.0.2.99", 51.0).ok  # other sources unaffected
    assert auth.check(signed(auth, 55.0), SOURCE, 61.0).ok  # one token back after 10 s


def test_failure_limiter_forgets_the_oldest_sources_first() -> None:
    limiter = FailureLimiter(capacity=1, refill_per_second=0.01, max_sources=2)
    for source in ("a", "b", "c"):
        limiter.record_failure(source, 0.0)
    assert limiter.allowed("a", 0.0)  # evicted, so back to a full bucket
    assert not limiter.allowed("b", 0.0) and not limiter.allowed("c", 0.0)


def test_digest_rejects_unknown_algorithms_at_construction() -> None:
    with pytest.raises(ValueError):
        authenticator(algorithms=("SHA-512",))
