"""Where a dialled call's record goes: the call archive, and the customer's history.

A dialled call an agent took ends as a completed contact: the service writes
the customer's history then, and the archive's transcript source adds the
call's summary (`ringway.telephony_records.dialled_note`). Every other attempt
(busy, no answer, failed, machine, abandoned) has no completion, so its note
is written here, to the customer whose number was dialled (the lead's
``customer_id``, else every customer holding the number).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from crm.errors import CrmError
from crm.model import Interaction
from ringway.service import RoutingService
from ringway.telephony_records import CallArchive, dialled_note

log = logging.getLogger(__name__)


class DialledCalls:
    def __init__(self, service: RoutingService, archive: CallArchive) -> None:
        self.service, self.archive = service, archive
        self._tasks: set[asyncio.Task[None]] = set()

    def filed(self, record: dict[str, Any]) -> None:
        """One attempt's record (times in loop seconds): archive it, note it."""
        self.archive.record(record)  # the times become epoch seconds here
        if record.get("agent_id") is not None and record.get("contact_id"):
            return  # the agent completes the contact: its history entry carries the note
        task = asyncio.get_running_loop().create_task(self._note(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _note(self, record: dict[str, Any]) -> None:
        customers = self.service.customers
        try:
            if record.get("customer_id"):
                ids = [str(record["customer_id"])]
            else:
                ids = [c.id for c in await customers.find_by_phone(str(record.get("dialed")))]
            ended = record.get("ended_at")
            at = datetime.fromtimestamp(ended if isinstance(ended, float) else 0.0, UTC)
            for who in ids:
                await customers.add_interaction(
                    Interaction(
                        id=f"ix-{record['call_id']}-{who}",
                        customer_id=who,
                        at=at.isoformat(),
                        channel="outbound",
                        direction="outbound",
                        contact_id=record.get("contact_id"),
                        queue=record.get("queue"),
                        disposition=f"dialer: {record.get('outcome')}",
                        notes=dialled_note(record),
                    )
                )
        except (CrmError, OSError) as exc:  # the customer store is down: the CDR stands
            log.warning("history note for dialled call %s not written: %s", record["call_id"], exc)

    async def close(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
