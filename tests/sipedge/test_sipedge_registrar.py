"""The pure registrar (RFC 3261 §10.3) with digest authentication (§22)."""

from __future__ import annotations

import random

from ivr.registrar import Registrar
from ivr.sip.builders import make_request
from ivr.sip.digest import compute_ha1, digest_response, parse_digest
from ivr.sip.message import Request, Response

SOURCE = "192.0.2.7"


def registrar(**kwargs: object) -> Registrar:
    return Registrar(
        credentials={"1001": "s3cret"},
        realm="ringway",
        secret=b"k" * 32,
        rng=random.Random(7),
        **kwargs,  # type: ignore[arg-type]
    )


def register(
    *contacts: str, user: str = "1001", expires: int | None = None, cseq: int = 1
) -> Request:
    headers = [("Contact", c) for c in contacts]
    if expires is not None:
        headers.append(("Expires", str(expires)))
    return make_request(
        "REGISTER",
        "sip:ringway.test",
        via="SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKreg" + str(cseq),
        from_=f"<sip:{user}@ringway.test>;tag=abc",
        to=f"<sip:{user}@ringway.test>",
        call_id="reg-1@192.0.2.7",
        cseq=cseq,
        headers=headers,
    )


def authorise(
    reg: Registrar, request: Request, now: float, *, password: str = "s3cret", user: str = "1001"
) -> Request:
    challenge = reg.handle(request, SOURCE, now)
    assert challenge.status == 401
    params = parse_digest(challenge.headers.get("www-authenticate") or "")
    ha1 = compute_ha1("MD5", user, "ringway", password)
    nonce = params["nonce"]
    response = digest_response(
        algorithm="MD5", ha1=ha1, nonce=nonce, method="REGISTER", uri=request.target,
        nc="00000001", cnonce="c0ffee",
    )  # fmt: skip
    request.headers.add(
        "Authorization",
        f'Digest username="{user}", realm="ringway", nonce="{nonce}", uri="{request.target}", '
        f'response="{response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"',
    )
    return request


def do(reg: Registrar, request: Request, now: float = 100.0, **kw: str) -> Response:
    return reg.handle(authorise(reg, request, now, **kw), SOURCE, now)


def test_401_challenge_then_200_with_contact_list() -> None:
    reg = registrar()
    ok = do(reg, register("<sip:1001@192.0.2.7:5062>", expires=300))
    assert ok.status == 200
    assert ok.headers.values("contact") == ["<sip:1001@192.0.2.7:5062>;expires=300"]
    assert reg.contacts_for("1001", 100.0) == ["sip:1001@192.0.2.7:5062"]


def test_granted_expiry_is_listed_whole_whatever_the_clock_reads() -> None:
    """At now=4002.354, (now + 120) - now is 119.99999999999955 in floating point: the
    200 must still list the 120 s just granted, not a truncated 119 (§10.3 step 8)."""
    now = 4002.354
    assert (now + 120) - now < 120  # the clock reading that truncation got wrong
    reg = registrar()
    ok = do(reg, register("<sip:1001@192.0.2.7:5062>", expires=120), now)
    assert ok.headers.values("contact") == ["<sip:1001@192.0.2.7:5062>;expires=120"]
    later = do(reg, register("<sip:1001@192.0.2.8:5062>", expires=120, cseq=2), now + 119.8)
    assert sorted(later.headers.values("contact")) == [
        "<sip:1001@192.0.2.7:5062>;expires=1",  # 0.2 s left: listed, never as expires=0
        "<sip:1001@192.0.2.8:5062>;expires=120",
    ]


def test_wrong_password_is_401_and_binds_nothing() -> None:
    reg = registrar()
    assert do(reg, register("<sip:1001@192.0.2.7>"), password="bad").status == 401
    assert reg.contacts_for("1001", 100.0) == []


def test_failure_flood_from_one_address_gets_403_with_retry_after() -> None:
    reg = registrar()
    for _ in range(10):
        assert do(reg, register("<sip:1001@192.0.2.7>"), password="bad").status == 401
    refused = reg.handle(register("<sip:1001@192.0.2.7>"), SOURCE, 100.0)
    assert refused.status == 403 and refused.headers.get("retry-after")


def test_stale_nonce_is_rechallenged_with_stale_true() -> None:
    """RFC 2617 §3.2.1: a correct digest on an expired nonce gets stale=true."""
    reg = registrar(nonce_ttl=30.0)
    request = authorise(reg, register("<sip:1001@192.0.2.7>"), 100.0)
    late = reg.handle(request, SOURCE, 200.0)
    assert late.status == 401
    assert "stale=true" in (late.headers.get("www-authenticate") or "")


def test_user_may_only_register_own_aor() -> None:
    """§10.3 step 6: the authenticated user must own the To AOR."""
    reg = Registrar(
        credentials={"1001": "s3cret", "1002": "x"}, realm="ringway", secret=b"k",
        rng=random.Random(1),
    )  # fmt: skip
    request = register("<sip:1002@192.0.2.7>", user="1002")
    authorise(reg, request, 100.0, user="1002", password="x")  # as 1002 ...
    request.headers.set("To", "<sip:1001@ringway.test>")  # ... for 1001's AOR
    assert reg.handle(request, SOURCE, 100.0).status == 403


def test_interval_too_brief_is_423_with_min_expires() -> None:
    """§10.3 step 7, §20.23."""
    reg = registrar(min_expires=60)
    too_brief = do(reg, register("<sip:1001@192.0.2.7>", expires=10))
    assert too_brief.status == 423 and too_brief.headers.get("min-expires") == "60"


def test_expiry_from_contact_param_header_default_and_max() -> None:
    reg = registrar(max_expires=3600, default_expires=1800)
    ok = do(
        reg,
        register(
            "<sip:a@192.0.2.7>;expires=120", "<sip:b@192.0.2.7>", "<sip:c@192.0.2.8>;expires=9999"
        ),
    )
    assert ok.status == 200
    assert sorted(ok.headers.values("contact")) == [
        "<sip:a@192.0.2.7>;expires=120",
        "<sip:b@192.0.2.7>;expires=1800",
        "<sip:c@192.0.2.8>;expires=3600",
    ]
    assert reg.contacts_for("1001", 100.0 + 121) == ["sip:c@192.0.2.8", "sip:b@192.0.2.7"]
    assert reg.contacts_for("1001", 100.0 + 3601) == []


def test_expires_zero_removes_one_binding() -> None:
    reg = registrar()
    do(reg, register("<sip:a@192.0.2.7>", "<sip:b@192.0.2.7>", expires=300))
    ok = do(reg, register("<sip:a@192.0.2.7>;expires=0", cseq=2))
    assert ok.headers.values("contact") == ["<sip:b@192.0.2.7>;expires=300"]


def test_star_with_expires_zero_removes_all() -> None:
    """§10.2.2 / §10.3 step 6."""
    reg = registrar()
    do(reg, register("<sip:a@192.0.2.7>", "<sip:b@192.0.2.7>", expires=300))
    ok = do(reg, register("*", expires=0, cseq=2))
    assert ok.status == 200 and ok.headers.values("contact") == []
    assert reg.contacts_for("1001", 100.0) == []


def test_star_with_nonzero_expires_or_other_contacts_is_400() -> None:
    reg = registrar()
    assert do(reg, register("*", expires=60)).status == 400
    assert do(reg, register("*", "<sip:a@192.0.2.7>", expires=0, cseq=2)).status == 400


def test_out_of_order_cseq_leaves_binding_alone() -> None:
    """§10.3 step 7: same Call-ID, CSeq not higher → no update."""
    reg = registrar()
    do(reg, register("<sip:a@192.0.2.7>", expires=300, cseq=5))
    ok = do(reg, register("<sip:a@192.0.2.7>", expires=0, cseq=4))
    assert ok.headers.values("contact") == ["<sip:a@192.0.2.7>;expires=300"]


def test_query_without_contacts_lists_bindings() -> None:
    """§10.2.3: a REGISTER with no Contact returns the current bindings."""
    reg = registrar()
    do(reg, register("<sip:a@192.0.2.7>", expires=300))
    ok = do(reg, register(cseq=2), now=150.0)
    assert ok.headers.values("contact") == ["<sip:a@192.0.2.7>;expires=250"]
