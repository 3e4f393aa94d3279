"""The API on any node: followers forward it, the leader answers once it is committed.

On a follower, an API request (``/api/…``, ``/healthz``) travels whole through
the commands stream to the leader, which runs it through its own app; the
follower relays the answer. Reads are forwarded too: the leader holds the only
current router, and an answer never shows state a failover could take back.

On the leader, a response is held until everything the request changed is in
Redis (`ClusterNode.durable`); if that cannot happen (Redis gone for a whole
lease, or a newer leader fenced this one off) the client gets a 503 instead.
Websockets, ``/metrics`` and the docs stay local.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ringway.cluster import asgi
from ringway.cluster.node import ClusterNode
from router.errors import RoutingError

ROUTED_PREFIXES = ("/api/", "/healthz")


class ClusterMiddleware:
    def __init__(self, app: ASGIApp, node: ClusterNode) -> None:
        self.app, self.node = app, node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(ROUTED_PREFIXES)
            or scope.get(asgi.FORWARDED_SCOPE)
        ):
            await self.app(scope, receive, send)
            return
        if not self.node.is_leader:
            await self._forward(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        try:
            await self.node.durable()
        except RoutingError as exc:
            error = {"code": exc.code, "message": exc.message}
            await asgi.send_json(send, exc.status, {"error": error})
            return
        for message in held:
            await send(message)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await asgi.read_body(receive)
        try:
            reply = await self.node.forwarder.send("http", asgi.request_payload(scope, body))
        except RoutingError as exc:
            error = {"code": exc.code, "message": exc.message}
            await asgi.send_json(send, exc.status, {"error": error})
            return
        await asgi.send_reply(reply, send)
