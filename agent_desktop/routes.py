"""Mount the gateway on the app: the two websockets and the pages.

* ``/ws/v1/desktop`` — agents and supervisors (docs/desktop-protocol.md);
* ``/ws/v1/chat`` — chat customers;
* ``/ui/agent.html``, ``/ui/wallboard.html``, ``/ui/chat.html`` — the pages,
  plain HTML and JavaScript modules from ``agent_desktop/web`` (package data,
  no build step); ``/ui/`` lists them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from agent_desktop.chat import ChatDesk
from agent_desktop.chat_socket import chat_socket
from agent_desktop.desktop_socket import desktop_socket
from agent_desktop.hub import Hub
from channels.mail.desk import MailDesk
from ringway.auth import Authenticator
from ringway.config import RingwayConfig

if TYPE_CHECKING:
    from ringway.service import RoutingService

DESKTOP_PATH = "/ws/v1/desktop"
CHAT_PATH = "/ws/v1/chat"


def web_root() -> Path:
    return Path(str(resources.files("agent_desktop") / "web"))


def install(
    app: FastAPI,
    service: RoutingService,
    auth: Authenticator,
    config: RingwayConfig,
    mail: MailDesk | None = None,
) -> Hub:
    """Build the hub (with its chat desk) and mount the sockets and pages on ``app``."""
    hub = Hub(service, auth, config)
    ChatDesk(hub, config.desktop.chat)
    if mail is not None:
        hub.mail = mail
        hub.observers.append(mail.observe)
        hub.channel_views.append(mail.view)
    app.state.desktop = hub
    app.router.routes.append(WebSocketRoute(DESKTOP_PATH, desktop_socket))
    app.router.routes.append(WebSocketRoute(CHAT_PATH, chat_socket))
    app.router.routes.append(Route("/ui", _to_index, include_in_schema=False))
    app.mount("/ui", StaticFiles(directory=web_root(), html=True), name="ui")
    return hub


async def _to_index(_: object) -> Response:
    return RedirectResponse("/ui/")
