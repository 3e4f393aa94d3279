"""After a restart: accepted e-mails come back, old cases go.

Recovery: every stored inbound message whose contact is still open is checked
against the router. A contact the router still has (a Redis cluster keeps the
routing state across a node's restart) keeps its id and gets its body back
from the reloaded cases; one it finished while this node was down is marked
finished; one it does not know (embedded, in-memory routing state: a restart
forgets every contact) is queued again under the *same* contact id — same
case, the case's handler as preferred agent, the original arrival time in
``attributes.email.received_at``. Queuing under the same id is what makes it
happen once: the router refuses a duplicate id, and a second restart finds the
contact either queued (cluster) or forgotten again (embedded), never twice.

Retention (``mail.retention_days``, ``mail.retention_cases``): cases idle for
longer, or beyond the newest so many, are deleted at start and hourly; a case
with an open contact is kept whatever its age.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from channels.mail.casesql import StoredContact
from channels.mail.store import CaseStore, CaseStoreError
from router.errors import DuplicateContact, RoutingError, UnknownContact
from router.model import ContactStatus

if TYPE_CHECKING:
    from channels.mail.desk import MailDesk
    from router.engine import Router

log = logging.getLogger(__name__)

RETRY_S = 0.5  # a cluster without a leader yet: ask again
PRUNE_EVERY_S = 3600.0
DAY_S = 86_400.0


async def router_status(desk: MailDesk, contact_id: str) -> ContactStatus | None:
    """The contact's status where the router runs; None when it does not know it."""
    service = desk.service
    try:
        if service.host is None:
            return service.router.contact(contact_id).status
        answer = await service.call("explain", contact_id=contact_id)
    except UnknownContact:
        return None
    except RoutingError as exc:
        if exc.code == UnknownContact.code:
            return None
        raise
    return ContactStatus(str(answer["contact"]["status"]))


def _final(router: Router, contact_id: str) -> bool:
    try:
        return router.contact(contact_id).status.is_final
    except UnknownContact:  # queued before a restart and not again: still open
        return False


class Upkeep:
    def __init__(self, desk: MailDesk, store: CaseStore) -> None:
        self.desk, self.store = desk, store
        self._tasks: list[asyncio.Task[None]] = []
        self.requeued: list[str] = []  # contact ids queued again by this start
        self.done = asyncio.Event()  # every stored open contact was checked

    async def start(self, open_contacts: list[StoredContact]) -> None:
        """Recover: inline on one node (the contacts are back before the service takes
        requests), in the background on a cluster node (it waits for a leader)."""
        loop = asyncio.get_running_loop()
        if self.desk.service.host is None:
            await self.recover(open_contacts)
            self.done.set()
        else:
            self._tasks.append(loop.create_task(self._recover_when_led(open_contacts)))
        self._tasks.append(loop.create_task(self._prune_hourly()))

    async def recover(self, open_contacts: list[StoredContact]) -> None:
        for stored in open_contacts:
            status = await router_status(self.desk, stored.contact_id)
            if status is None:
                await self._requeue(stored)
            elif status.is_final:
                await self._finished(stored.contact_id)
            else:  # still routed (cluster): other nodes' desktops get the case again
                self.desk.announce(stored.contact_id)

    async def _finished(self, contact_id: str) -> None:
        try:
            await self.store.finished(contact_id)
        except CaseStoreError as exc:  # checked again at the next start
            log.warning("%s", exc.message)

    async def _requeue(self, stored: StoredContact) -> None:
        try:
            await self.desk.requeue(stored)
        except DuplicateContact:  # queued meanwhile (a cluster leader took it over)
            return
        except CaseStoreError as exc:
            log.error("e-mail %s not queued again: %s", stored.contact_id, exc.message)
            return
        except RoutingError as exc:
            if exc.status == 503:
                raise
            # e.g. the queue is full or gone from the config: the next start tries again
            log.error("e-mail %s not queued again: %s", stored.contact_id, exc.message)
            return
        self.requeued.append(stored.contact_id)
        log.info("e-mail %s queued again after a restart", stored.contact_id)
        try:  # only a count for the next start's attributes: queued either way
            await self.store.requeued(stored.contact_id)
        except CaseStoreError as exc:
            log.warning("%s", exc.message)

    async def _recover_when_led(self, open_contacts: list[StoredContact]) -> None:
        remaining = list(open_contacts)
        while remaining:
            try:
                await self.recover(remaining[:1])
            except RoutingError as exc:  # 503: no leader yet, or it changed
                log.debug("mail recovery waits: %s", exc.message)
                await asyncio.sleep(RETRY_S)
                continue
            remaining.pop(0)
        self.done.set()

    async def prune(self) -> None:
        settings = self.desk.config
        cutoff = self.desk.service.now() - settings.retention_days * DAY_S
        try:
            gone = await self.store.prune(older_than=cutoff, keep=settings.retention_cases)
        except CaseStoreError as exc:
            log.error("%s", exc.message)
            return
        if gone:
            log.info("mail case store: %d cases past retention deleted", gone)

    async def _prune_hourly(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_EVERY_S)
            await self.prune()

    async def settle(self) -> None:
        """At a clean stop of one node: mark finished the contacts the router finished but
        whose events the desktop feed had not passed on yet (else the next start would
        queue them again). A cluster's next start asks the router instead."""
        service = self.desk.service
        if service.host is not None:
            return
        try:
            router = service.router
            done = [
                contact_id
                for contact_id in await self.store.open_contacts()
                if _final(router, contact_id)
            ]
            if done:
                await self.store.finished(*done)
        except (RuntimeError, CaseStoreError) as exc:  # not started, or the disk failed
            log.warning("mail case store not settled at stop: %s", exc)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
