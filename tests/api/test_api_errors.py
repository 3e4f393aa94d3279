"""Bad input: every refusal is a 4xx with ``{"error": {code, message}}`` and changes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from conftest import Api, Run

JSON = {"Content-Type": "application/json"}

# (method, path, who, request kwargs, status, error code, words the message must contain)
Case = tuple[str, str, str, dict[str, Any], int, str, str]

CASES: list[Case] = [
    (
        "POST",
        "/contacts",
        "admin",
        {"content": b'{"channel": "voice",', "headers": JSON},
        422,
        "invalid_request",
        "not valid JSON",
    ),
    ("POST", "/contacts", "admin", {"json": ["voice"]}, 422, "invalid_request", "body"),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "fax"}},
        422,
        "invalid_request",
        "body.channel",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "voice", "priority": "high"}},
        422,
        "invalid_request",
        "body.priority",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "voice", "colour": "red"}},
        422,
        "invalid_request",
        "body.colour",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "voice", "queue": "nope"}},
        404,
        "unknown_queue",
        "unknown queue 'nope'",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "chat", "queue": "support"}},
        422,
        "channel_mismatch",
        "takes voice contacts",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "email"}},
        404,
        "unknown_queue",
        "no queue takes email",
    ),
    (
        "POST",
        "/contacts",
        "admin",
        {"json": {"channel": "voice", "id": "has space"}},
        422,
        "invalid_request",
        "body.id",
    ),
    ("GET", "/contacts/c-missing", "sam", {}, 404, "unknown_contact", "c-missing"),
    ("POST", "/contacts/c-missing/cancel", "sam", {}, 404, "unknown_contact", "c-missing"),
    ("GET", "/contacts?status=lost", "sam", {}, 422, "invalid_request", "query.status"),
    ("GET", "/queues/nope", "bob", {}, 404, "unknown_queue", "nope"),
    ("GET", "/agents/zed", "sam", {}, 404, "unknown_agent", "zed"),
    (
        "POST",
        "/agents/alice/state",
        "alice",
        {"json": {"state": "asleep"}},
        422,
        "invalid_request",
        "body.state",
    ),
    (
        "POST",
        "/agents/alice/state",
        "alice",
        {"json": {"state": "ready"}},
        409,
        "illegal_transition",
        "cannot ready while offline",
    ),
    (
        "POST",
        "/agents/alice/logout",
        "alice",
        {"json": {"force": True}},
        403,
        "forbidden",
        "supervisor",
    ),
    (
        "POST",
        "/agents/alice/offers/c-missing/accept",
        "alice",
        {},
        404,
        "unknown_contact",
        "c-missing",
    ),
    (
        "POST",
        "/agents/alice/contacts/c-missing/wrap-up/extend",
        "alice",
        {"json": {"seconds": -5}},
        422,
        "invalid_request",
        "body.seconds",
    ),
    (
        "POST",
        "/customers",
        "sam",
        {"json": {"id": "c9", "phones": ["call me"]}},
        422,
        "invalid_customer",
        "phones",
    ),
    (
        "POST",
        "/customers",
        "sam",
        {"json": {"id": "cust-1001", "name": "Again"}},
        409,
        "duplicate_customer",
        "cust-1001",
    ),
    ("POST", "/customers", "sam", {"json": {"name": "No id"}}, 422, "invalid_customer", "id"),
    (
        "PUT",
        "/customers/cust-1001",
        "sam",
        {"json": {"id": "cust-1002", "name": "X"}},
        422,
        "invalid_customer",
        "does not match",
    ),
    (
        "PUT",
        "/customers/cust-0000",
        "sam",
        {"json": {"name": "Ghost"}},
        404,
        "customer_not_found",
        "cust-0000",
    ),
    ("DELETE", "/customers/cust-0000", "sam", {}, 404, "customer_not_found", "cust-0000"),
    ("GET", "/customers/cust-0000/history", "bob", {}, 404, "customer_not_found", "cust-0000"),
    ("GET", "/customers/lookup", "bob", {}, 422, "invalid_customer", "exactly one"),
    ("GET", "/customers?limit=0", "bob", {}, 422, "invalid_request", "query.limit"),
    ("GET", "/events?after=-1", "sam", {}, 422, "invalid_request", "query.after"),
    ("GET", "/no/such/route", "sam", {}, 404, "not_found", "Not Found"),
]


async def _matrix(api: Api) -> None:
    before = await api.state()
    for method, path, who, kwargs, status, code, words in CASES:
        body = await api.call(method, "/api/v1" + path, who, expect=status, **kwargs)
        assert body["error"]["code"] == code, (path, body)
        assert words in body["error"]["message"], (path, body)
    assert await api.state() == before


def test_bad_requests_are_4xx_json_and_change_nothing(run_api: Run) -> None:
    run_api(_matrix)


async def _conflicts(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice("+12025550199", id="c-dup")
    assert created["agent_id"] == "alice"
    before = await api.state()
    body = await api.post(
        "/contacts", "admin", json={"channel": "voice", "id": "c-dup"}, expect=409
    )
    assert body["error"]["code"] == "duplicate_contact"
    body = await api.post("/agents/alice/contacts/c-dup/complete", "alice", expect=403)
    assert body["error"]["code"] == "not_your_offer"  # ringing, not connected yet
    await api.post("/agents/alice/offers/c-dup/accept", "alice")
    during = await api.state()
    body = await api.post(
        "/agents/alice/contacts/c-dup/transfer", "alice", json={"queue": "x"}, expect=404
    )
    assert body["error"]["code"] == "unknown_queue"
    body = await api.post("/agents/alice/logout", "alice", expect=409)
    assert "complete them first" in body["error"]["message"]
    body = await api.post("/contacts/c-dup/cancel", "sam", expect=409)
    assert "only waiting contacts" in body["error"]["message"]
    assert await api.state() == during
    assert during["last_seq"] > before["last_seq"]  # the accept was real


def test_state_conflicts_are_refused_before_anything_changes(run_api: Run) -> None:
    run_api(_conflicts)


async def _internal(api: Api) -> None:
    def broken(*_: object) -> list[Any]:
        raise RuntimeError("a bug in the core")

    created = await api.voice(None)
    # The service's command runner, not the router: the compiled router's methods
    # cannot be replaced on an instance (router._native).
    api.bundle.service.execute = broken  # type: ignore[method-assign]
    # As uvicorn would: answer the client instead of raising into the test.
    transport = httpx.ASGITransport(app=api.bundle.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ringway.test") as client:
        response = await client.post(
            f"/api/v1/contacts/{created['id']}/end", headers=api.headers("admin")
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "internal error; see the service log"}
    }


def test_a_bug_is_a_500_json_without_details(run_api: Run) -> None:
    run_api(_internal)
