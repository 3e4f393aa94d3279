"""How a client message is handled: the `Op` table entry and the context a handler gets.

Each message type names the least role that may send it and the view it belongs
to; the connection checks both on *every* message, with the token re-read each
time (so an expired token or a demoted user is refused at once), before the
handler runs. Handlers run on the event loop and call the router synchronously,
so no other message interleaves inside a routing decision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent_desktop.errors import DesktopError
from agent_desktop.protocol import Message, Models
from agent_desktop.session import Session, View
from ringway.auth import Forbidden, Principal, Role

if TYPE_CHECKING:
    from agent_desktop.hub import Hub

Result = dict[str, Any] | None
Handler = Callable[[Any, Any], Awaitable[Result]]  # (context, message) -> reply result


@dataclass(frozen=True, slots=True)
class Context:
    hub: Hub
    session: Session
    principal: Principal

    @property
    def agent_id(self) -> str:
        return self.principal.id


@dataclass(frozen=True, slots=True)
class Op:
    model: type[Message]
    handler: Handler
    role: Role | None = Role.AGENT  # None: no token needed (auth, ping)
    view: View | None = None  # None: any view
    reply: bool = True  # typing and ping get no reply frame

    def check(self, principal: Principal, session: Session) -> None:
        if self.role is not None and not principal.has(self.role):
            raise Forbidden(
                f"{self.model.__name__.lower()} needs the {self.role.label} role; "
                f"you are {principal.role.label}"
            )
        if self.view is not None and self.view is not session.view:
            raise DesktopError(
                "wrong_view",
                f"this message belongs to the {self.view.value} view; "
                f"this connection opened the {session.view.value} view",
            )


Ops = dict[str, Op]


def table(*groups: Ops) -> Ops:
    merged: Ops = {}
    for group in groups:
        merged.update(group)
    return merged


def models_of(ops: Ops) -> Models:
    return {name: op.model for name, op in ops.items()}
