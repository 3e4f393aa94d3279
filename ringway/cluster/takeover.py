"""Becoming leader: the router rebuilt from the records in Redis.

`restore` re-indexes the records and repairs what a crash can leave half-done
(a reservation one side does not point back to, an agent held by a lost
reservation, a contact ringing nobody). Then, as at a start, the configuration
(re)defines the agents; `rebalance` matches every free agent, and `tick` fires
every timer that fell due while nobody routed — an offer past its deadline
becomes a RONA and its contact goes back to its place in line.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterable

from ringway.cluster.mirror import MirrorStore
from ringway.cluster.records import Loaded
from ringway.config import RingwayConfig
from router.engine import Router
from router.events import Event
from router.restore import restore

log = logging.getLogger(__name__)


def rebuild(
    config: RingwayConfig,
    loaded: Loaded,
    *,
    seq: int,
    now: float,
    history: Iterable[Event] = (),
) -> tuple[Router, MirrorStore]:
    """A router over a fresh mirror of ``loaded``; its repairs are dirty, ready to commit."""
    mirror = MirrorStore(
        first_seq=seq, keep_finished=config.service.cluster.keep_finished, history=history
    )
    mirror.load(loaded.contacts, loaded.agents, loaded.reservations)
    router, repairs = restore(
        config.queues,
        rng=random.Random(os.urandom(16)),
        store=mirror,
        explain_detail_limit=config.service.explain_detail_limit,
    )
    for repair in repairs:
        log.warning("takeover repair: %s", repair)
    for agent in config.agents:
        router.add_agent(agent.to_agent(), now)
    router.rebalance(now)
    router.tick(now)
    return router, mirror
