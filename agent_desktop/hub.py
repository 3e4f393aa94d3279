"""The gateway hub: every desktop, wallboard and chat session, fed from the router's events.

The hub owns the sessions, the feed (a listener on the service's event bus: each
event turned into frames by `Feed` and shown to the channel desks, on the loop,
without a task woken per event) and a task, the ticker (queue figures to wallboards every
``desktop.supervisor_push_s``, heartbeats to every connection every
``desktop.heartbeat_s``).

A session whose connection drops is kept for ``desktop.resume_window_s``. An
agent's is also on a grace timer: if they are not back within
``desktop.disconnect_grace_s`` (capped at half the shortest offer timeout), an
offer in flight goes back to its place in the queue (``agent_disconnected``:
RONA with reason ``disconnected``) and a ready agent is made not-ready with
reason ``disconnected``, so no contact waits on a desktop nobody looks at.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent_desktop.errors import CLOSE_GOING_AWAY, CLOSE_REPLACED
from agent_desktop.feed import Feed
from agent_desktop.outbox import body
from agent_desktop.session import Connection, Session, View
from agent_desktop.views import ChannelView, queue_stats
from ringway.auth import Authenticator
from ringway.bus import Listener
from ringway.config import RingwayConfig
from router import events as ev
from router.errors import RoutingError

if TYPE_CHECKING:
    from agent_desktop.chat import ChatDesk
    from channels.mail.desk import MailDesk
    from ringway.dialer_live.preview_desk import PreviewDesk
    from ringway.service import RoutingService

log = logging.getLogger(__name__)

MIN_TICK_S = 0.01
Observer = Callable[[ev.Event], None]
# The router events handed to the hub: all but those no desktop consumer acts on. The
# feed has no handler for a contact queued or relaxed, and the channel desks' observers
# (chat, e-mail) act only on offers, acceptances, transfers and contacts leaving; an
# observer added here must keep to that, or name its kinds here. Left out, a contact
# queued (every call) costs the hub no loop callback and no dispatch.
UNOBSERVED_KINDS = frozenset({ev.ContactQueued.kind, ev.ContactRelaxed.kind})
DESKTOP_KINDS = frozenset(kind for kind in ev.EVENT_TYPES if kind not in UNOBSERVED_KINDS)


class Hub:
    def __init__(self, service: RoutingService, auth: Authenticator, config: RingwayConfig) -> None:
        self.service, self.auth, self.config = service, auth, config
        self.feed = Feed(self)
        self.observers: list[Observer] = []  # channel desks (chat, e-mail)
        self.channel_views: list[ChannelView] = []
        self.customer_gone: Callable[[Session], None] | None = None  # the chat desk's
        self.chat: ChatDesk | None = None
        self.mail: MailDesk | None = None
        self.previews: PreviewDesk | None = None  # the dialer's preview mode, when it runs
        self.sessions: dict[str, Session] = {}
        self._agents: dict[str, Session] = {}
        self._supervisors: dict[str, Session] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: Listener | None = None
        desktop = config.desktop
        timeouts = [q.offer_timeout_s for q in config.queues] or [desktop.disconnect_grace_s * 2]
        self.grace_s = min(desktop.disconnect_grace_s, min(timeouts) / 2)

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        # the router events desktops act on (DESKTOP_KINDS), handed to _dispatch on the
        # loop: no task step per event
        self._listener = self.service.listen(self._dispatch, DESKTOP_KINDS)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tick(), name="desktop-ticker")]

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self.service.unsubscribe(self._listener)
            self._listener = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.feed.stop()
        for session in list(self.sessions.values()):
            session.cancel_timer()
            if session.connection is not None:
                await session.connection.close(CLOSE_GOING_AWAY, "service stopping")
        self.sessions.clear()
        self._agents.clear()
        self._supervisors.clear()

    # ------------------------------------------------------------------ sessions

    def agent_session(self, agent_id: str) -> Session | None:
        return self._agents.get(agent_id)

    def supervisor_sessions(self) -> list[Session]:
        return list(self._supervisors.values())

    def add(self, session: Session) -> Session:
        """Register a new session; an agent's replaces their previous one."""
        self.sessions[session.id] = session
        if session.view is View.AGENT:
            old = self._agents.get(session.user)
            self._agents[session.user] = session
            if old is not None:
                self.drop(old, "a new session of this agent opened")
        elif session.view is View.SUPERVISOR:
            self._supervisors[session.id] = session
        return session

    def attach(self, session: Session, connection: Connection) -> None:
        session.cancel_timer()
        old, session.connection = session.connection, connection
        if old is not None:
            self._close_soon(old, CLOSE_REPLACED, "session resumed on another connection")

    def detach(self, session: Session, connection: Connection) -> None:
        """The connection is gone; keep the session for a resume (and start its timers)."""
        if session.connection is not connection:
            return  # already replaced by a newer connection
        session.connection = None
        if self.sessions.get(session.id) is not session:
            return
        loop = asyncio.get_running_loop()
        if session.view is View.AGENT:
            if self.previews is not None:  # a lead nobody reads goes back at once
                self.previews.agent_gone(session.user)
            session.timer = loop.call_later(self.grace_s, self._agent_gone, session)
        elif session.view is View.SUPERVISOR:
            session.timer = loop.call_later(
                self.config.desktop.resume_window_s, self.drop, session, "expired"
            )
        elif self.customer_gone is not None:
            self.customer_gone(session)

    def _agent_gone(self, session: Session) -> None:
        """Grace over and the agent is not back: free their offer, stop new ones."""
        if session.connection is not None or self.sessions.get(session.id) is not session:
            return
        self.release_agent(session.user)
        window = max(0.0, self.config.desktop.resume_window_s - self.grace_s)
        loop = asyncio.get_running_loop()
        session.timer = loop.call_later(window, self.drop, session, "expired")

    def release_agent(self, agent_id: str) -> None:
        """Free the agent's offer (RONA) or make them not-ready, on the node that routes."""
        task = asyncio.get_running_loop().create_task(self._release(agent_id))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    async def _release(self, agent_id: str) -> None:
        try:
            await self.call("release_agent", agent_id=agent_id)
        except RoutingError as exc:
            log.warning("could not release disconnected agent %s: %s", agent_id, exc.message)

    def drop(self, session: Session, reason: str) -> None:
        session.cancel_timer()
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        if self._agents.get(session.user) is session and session.view is View.AGENT:
            del self._agents[session.user]
        self._supervisors.pop(session.id, None)
        if session.connection is not None:
            self._close_soon(session.connection, CLOSE_REPLACED, reason)

    def _close_soon(self, connection: Connection, code: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(connection.close(code, reason))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        with contextlib.suppress(ValueError):
            self._tasks.remove(task)

    # ------------------------------------------------------------------ commands

    async def call(self, name: str, *, notify: bool = False, **args: Any) -> dict[str, Any]:
        """Run a routing command wherever the router runs (`RoutingService.call`).

        ``notify``: the agent it names gets their record even if the shown state did
        not change (a not-ready after this contact, a new extension)."""
        result = await self.service.call(name, **args)
        agent = result.get("agent")
        if notify and agent is not None and agent["id"] not in result.get("agents_changed", ()):
            self.feed.agent_frame(agent, self.service.now())
        return result

    # --------------------------------------------------------------------- tasks

    def _dispatch(self, event: ev.Event) -> None:
        try:
            for observe in self.observers:
                observe(event)
            self.feed.dispatch(event)
        except Exception:  # one bad event must not stop every desktop
            log.exception("desktop feed failed on event %s", event.seq)

    async def _tick(self) -> None:
        desktop = self.config.desktop
        loop = asyncio.get_running_loop()
        next_push = next_beat = loop.time()
        while True:
            now = loop.time()
            if now >= next_push:
                next_push = now + desktop.supervisor_push_s
                self._push_stats()
            if now >= next_beat:
                next_beat = now + desktop.heartbeat_s
                beat = {"type": "heartbeat", "at": self.service.now()}
                for session in list(self.sessions.values()):
                    session.control(dict(beat))
            await asyncio.sleep(max(MIN_TICK_S, min(next_push, next_beat) - loop.time()))

    def _push_stats(self) -> None:
        supervisors = self.supervisor_sessions()
        if not supervisors:
            return
        text = body(queue_stats(self.service, self.service.now()))
        for session in supervisors:
            session.push_body(text)
