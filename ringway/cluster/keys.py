"""Redis key names of one tenant.

Every key carries the tenant in a hash tag (``ringway:{tenant}:…``), so in a
Redis Cluster all of a tenant's keys live in one slot and one Lua script may
touch them all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Keys:
    tenant: str

    def _key(self, name: str) -> str:
        return f"ringway:{{{self.tenant}}}:{name}"

    def sip_node(self, node: str) -> str:  # a node's SIP edge is alive (PX expiry)
        return self._key(f"sip-node:{node}")

    def phone(self, extension: str) -> str:  # a phone's contact URI, with a PX expiry
        return self._key(f"phone:{extension}")

    @property
    def lease(self) -> str:  # the leader's node id, with a PX expiry
        return self._key("lease")

    @property
    def epoch(self) -> str:  # fencing token: +1 at every acquisition
        return self._key("epoch")

    @property
    def commit(self) -> str:  # "<epoch>:<batch>" of the last batch written (retry dedupe)
        return self._key("commit")

    @property
    def seq(self) -> str:  # the last event seq written
        return self._key("seq")

    @property
    def contacts(self) -> str:  # hash: live contact id -> JSON
        return self._key("contacts")

    @property
    def finished(self) -> str:  # hash: finished contact id -> JSON (newest keep_finished)
        return self._key("finished")

    @property
    def finished_order(self) -> str:  # zset: finished contact id by the seq it finished at
        return self._key("finished:order")

    @property
    def agents(self) -> str:
        return self._key("agents")

    @property
    def reservations(self) -> str:
        return self._key("reservations")

    @property
    def events(self) -> str:  # stream: one entry per batch, id "<last seq>-0"
        return self._key("events")

    @property
    def commands(self) -> str:  # stream: commands forwarded to the leader
        return self._key("commands")

    @property
    def command_cursor(self) -> str:  # id of the last forwarded command applied
        return self._key("commands:cursor")

    @property
    def snapshot(self) -> str:  # the leader's live queue/agent gauges, for followers
        return self._key("snapshot")

    def replies(self, node: str) -> str:  # stream: answers to one node's commands
        return self._key(f"replies:{node}")


StreamEntry = tuple[bytes, dict[bytes, bytes]]  # (entry id, fields)


def stream_entries(found: Any) -> list[StreamEntry]:
    """XREAD's answer (RESP2: ``[[stream, [(id, fields), …]], …]``) as typed entries."""
    return [(entry_id, fields) for _, entries in found or [] for entry_id, fields in entries]


def honour_cancel() -> None:
    """Raise `CancelledError` if this task was cancelled during an await that returned anyway.

    On CPython 3.11 `asyncio.wait_for` loses a cancel that lands as its inner future
    completes (fixed in 3.12), and redis-py wraps every socket write in it: a task
    cancelled while sending XREAD then blocks on the reply and returns normally.
    Every loop here calls this after each Redis call, so a stop ends it within one
    block period instead of never.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
