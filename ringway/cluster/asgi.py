"""An HTTP request as a forwardable value, and running one through an ASGI app in-process.

The leader answers a forwarded API request by calling its own app with a scope
marked `FORWARDED_SCOPE`: the cluster middleware then neither forwards it again
nor waits for the commit itself (the leader's command loop commits the request's
effects together with its answer).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORWARDED_SCOPE = "ringway.forwarded"


def request_payload(scope: Scope, body: bytes) -> dict[str, Any]:
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        "body": base64.b64encode(body).decode(),
    }


async def run_request(app: ASGIApp, payload: dict[str, Any]) -> bytes:
    """Run a forwarded request through ``app``; the response as a reply value."""
    body = base64.b64decode(payload.get("body", ""))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": payload["method"],
        "scheme": "http",
        "path": payload["path"],
        "raw_path": payload["path"].encode(),
        "root_path": "",
        "query_string": payload.get("query", "").encode("latin-1"),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in payload["headers"]],
        "client": ("ringway-forwarded", 0),
        "server": ("ringway-leader", 0),
        "state": {},
        FORWARDED_SCOPE: True,
    }
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, headers, chunks = 500, [], []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return orjson.dumps(
        {"status": status, "headers": headers, "body": base64.b64encode(b"".join(chunks)).decode()}
    )


async def send_reply(reply: bytes, send: Send) -> None:
    """Answer the client with a response the leader produced."""
    data = orjson.loads(reply)
    if "status" not in data:  # an error the command loop produced (expired, internal)
        error = data.get("error", {})
        await send_json(send, int(error.get("status", 503)), {"error": error})
        return
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in data["headers"]]
    await send({"type": "http.response.start", "status": data["status"], "headers": headers})
    await send({"type": "http.response.body", "body": base64.b64decode(data["body"])})


async def send_json(send: Send, status: int, document: dict[str, Any]) -> None:
    body = orjson.dumps(document)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
