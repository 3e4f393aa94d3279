"""Who may do what: passwords, tokens, roles, and an agent's own agent id."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
from fastapi.routing import APIRoute

from ringway import api as api_package
from ringway.app import build
from ringway.auth import (
    MIN_ITERATIONS,
    Authenticator,
    AuthError,
    Role,
    check_hash_format,
    hash_password,
    verify_password,
)

if TYPE_CHECKING:
    from conftest import Api, ConfigFactory, Run


def test_password_hash_format_round_trips() -> None:
    encoded = hash_password("s3cret", iterations=MIN_ITERATIONS)
    algorithm, iterations, salt, digest = encoded.split("$")
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", MIN_ITERATIONS)
    assert len(salt) >= 22 and len(digest) == 43  # 16-byte salt, 32-byte SHA-256, base64
    assert verify_password("s3cret", encoded)
    assert not verify_password("s3cret ", encoded)
    # A fresh salt per hash: equal passwords do not give equal hashes.
    assert hash_password("s3cret", iterations=MIN_ITERATIONS) != encoded


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        ("md5$1$abc$def", "must look like"),
        ("pbkdf2_sha256$many$abc$def", "not readable"),
        ("pbkdf2_sha256$1000$YWJj$ZGVm", "below"),
    ],
)
def test_bad_password_hashes_are_config_errors(encoded: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_hash_format(encoded)


def test_config_hash_is_used_and_a_bad_one_stops_the_build(make_config: ConfigFactory) -> None:
    config = make_config()
    hashed = hash_password("sam-pw", iterations=MIN_ITERATIONS)
    users = [
        dataclasses.replace(u, password_hash=hashed) if u.id == "sam" else u for u in config.users
    ]
    auth = Authenticator(dataclasses.replace(config, users=users), {})
    assert "sam" not in auth.generated_passwords
    token, role, _ = auth.login("sam", "sam-pw")
    assert role is Role.SUPERVISOR and auth.authenticate(token).id == "sam"
    broken = [dataclasses.replace(u, password_hash="plain") if u.id == "sam" else u for u in users]
    with pytest.raises(ValueError, match="user sam: password_hash"):
        Authenticator(dataclasses.replace(config, users=broken), {})


def test_generated_passwords_and_admin_token_are_returned_for_printing(
    make_config: ConfigFactory,
) -> None:
    bundle = build(make_config(), {"RW_TEST_ALICE_PW": "from-env"})
    # alice's password comes from the environment; everyone else gets a random one.
    assert sorted(bundle.generated_passwords) == ["ada", "bob", "sam"]
    assert all(len(p) >= 16 for p in bundle.generated_passwords.values())
    assert len(bundle.admin_token) >= 32
    again = build(make_config(), {"RW_TEST_ALICE_PW": "from-env"})
    assert again.admin_token != bundle.admin_token
    assert again.generated_passwords["sam"] != bundle.generated_passwords["sam"]


def test_token_secret_and_admin_token_come_from_the_environment(
    make_config: ConfigFactory,
) -> None:
    env = {"RINGWAY_TOKEN_SECRET": "s" * 32, "RINGWAY_ADMIN_TOKEN": "a" * 40}
    first = Authenticator(make_config(), env)
    second = Authenticator(make_config(), env)
    token, _ = first.issue("bob", Role.AGENT)
    assert second.authenticate(token).id == "bob"  # survives a restart
    assert first.admin_token == "a" * 40
    # Without a configured secret each start draws its own: old tokens stop working.
    with pytest.raises(AuthError, match="invalid token"):
        Authenticator(make_config(), {}).authenticate(token)


async def _login(api: Api) -> None:
    password = api.env["RW_TEST_ALICE_PW"]
    good = await api.post("/auth/login", None, json={"user": "alice", "password": password})
    assert good["role"] == "agent" and good["expires_at"] > 0
    headers = {"Authorization": f"Bearer {good['token']}"}
    me = await api.call("GET", "/api/v1/auth/me", None, headers=headers)
    assert me == {"id": "alice", "role": "agent"}

    wrong = await api.post(
        "/auth/login", None, json={"user": "alice", "password": "nope"}, expect=401
    )
    nobody = await api.post(
        "/auth/login", None, json={"user": "mallory", "password": "nope"}, expect=401
    )
    assert wrong == nobody  # does not tell which users exist
    assert wrong["error"]["code"] == "unauthorized"

    sam_password = api.bundle.generated_passwords["sam"]
    sam = await api.post("/auth/login", None, json={"user": "sam", "password": sam_password})
    assert sam["role"] == "supervisor"


def test_login_issues_tokens_and_never_says_which_user_exists(run_api: Run) -> None:
    run_api(_login)


async def _token_errors(api: Api) -> None:
    missing = await api.get("/queues", None, expect=401)
    assert missing["error"]["code"] == "unauthorized" and "missing" in missing["error"]["message"]
    response = await api.client.get("/api/v1/queues")
    assert response.headers["www-authenticate"] == "Bearer"

    token, _ = api.auth.issue("alice", Role.AGENT)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, "not-a-token", "rw1.e30.xyz", token.replace("rw1", "rw2", 1)):
        body = await api.get(
            "/queues", None, headers={"Authorization": f"Bearer {bad}"}, expect=401
        )
        assert body["error"]["message"] == "invalid token"

    expired, _ = api.auth.issue("alice", Role.AGENT, ttl_s=-1)
    body = await api.get(
        "/queues", None, headers={"Authorization": f"Bearer {expired}"}, expect=401
    )
    assert "expired" in body["error"]["message"]


def test_missing_bad_and_expired_tokens_get_401(run_api: Run) -> None:
    run_api(_token_errors)


async def _roles(api: Api) -> None:
    before = await api.state()
    denied = await api.get("/agents", "alice", expect=403)
    assert denied["error"]["code"] == "forbidden"
    await api.get("/events", "bob", expect=403)
    await api.post("/contacts", "alice", json={"channel": "voice"}, expect=403)
    await api.post("/customers", "bob", json={"id": "x", "name": "X"}, expect=403)
    await api.call("DELETE", "/api/v1/customers/cust-1001", "alice", expect=403)
    # An agent acts on their own agent id only.
    await api.post("/agents/bob/login", "alice", json={"ready": True}, expect=403)
    await api.get("/agents/bob", "alice", expect=403)
    await api.get("/agents/bob/offers", "alice", expect=403)
    await api.post("/agents/bob/state", "alice", json={"state": "not_ready"}, expect=403)
    # A supervisor forces not-ready, but does not make someone else ready.
    await api.post("/agents/bob/state", "sam", json={"state": "ready"}, expect=403)
    assert await api.state() == before
    await api.get("/agents/bob", "sam")
    await api.get("/queues", "bob")


def test_roles_are_enforced_and_refusals_change_nothing(run_api: Run) -> None:
    run_api(_roles)


async def _other_agents_offer(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice("+12025550199")
    assert created["agent_id"] == "alice"
    before = await api.state()
    body = await api.post(f"/agents/alice/offers/{created['id']}/accept", "bob", expect=403)
    assert body["error"]["code"] == "forbidden"
    # bob's own id, alice's offer: the router refuses it as not his.
    body = await api.post(f"/agents/bob/offers/{created['id']}/accept", "bob", expect=403)
    assert body["error"]["code"] == "not_your_offer"
    await api.post(f"/agents/alice/contacts/{created['id']}/complete", "bob", expect=403)
    assert await api.state() == before
    # The integration holding the admin token may accept for the agent (phone picked up).
    await api.post(f"/agents/alice/offers/{created['id']}/accept", "admin")


def test_an_agent_cannot_touch_another_agents_offer(run_api: Run) -> None:
    run_api(_other_agents_offer)


async def _private_metrics(api: Api) -> None:
    refused = await api.call("GET", "/metrics", None, expect=401)
    assert refused["error"]["code"] == "unauthorized"
    await api.call("GET", "/metrics", "alice", expect=403)
    metric = await api.scrape("sam")
    assert metric("ringway_agents", state="offline") == 2


def test_private_metrics_need_a_supervisor(run_api: Run) -> None:
    run_api(_private_metrics, metrics_public=False)


def _role_checks(route: APIRoute) -> list[Role]:
    return [
        d.call.required_role  # type: ignore[union-attr]
        for d in route.dependant.dependencies
        if hasattr(d.call, "required_role")
    ]


def test_every_api_route_checks_a_role() -> None:
    public = {("login", "/auth/login"), ("health", "/healthz")}  # the only open doors
    modules = [getattr(api_package, name) for name in api_package.__dict__ if name.islower()]
    routes = [
        (module.__name__.rsplit(".", 1)[-1], route)
        for module in modules
        if hasattr(module, "router")
        for route in module.router.routes
        if isinstance(route, APIRoute)
    ]
    assert len(routes) >= 25
    unchecked = [
        (name, route.path)
        for name, route in routes
        if not _role_checks(route) and (name, route.path) not in public
    ]
    assert unchecked == []
