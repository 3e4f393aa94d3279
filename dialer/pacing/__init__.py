"""Outbound pacing: how many lines to dial now, and the abandonment accounting behind it.

Importing this package registers the built-in policies (``preview``,
``progressive``, ``predictive``); a plug-in registers its own with `register`.
Pure like the routing core: ``now`` comes in views and outcomes, randomness is
an injected `random.Random`, no clock, no asyncio. Drivers: the live dialer and
the SimPy model `simulation.dialer_sim`. See docs/dialer-pacing.md.
"""

from dialer.pacing.base import (
    ABANDON_GRACE_SECONDS,
    MIN_RING_SECONDS,
    Decision,
    PacingError,
    PacingPolicy,
    PacingSettings,
    PacingView,
    create,
    names,
    register,
)
from dialer.pacing.predictive import Predictive
from dialer.pacing.simple import Preview, Progressive

__all__ = [
    "ABANDON_GRACE_SECONDS",
    "MIN_RING_SECONDS",
    "Decision",
    "PacingError",
    "PacingPolicy",
    "PacingSettings",
    "PacingView",
    "Predictive",
    "Preview",
    "Progressive",
    "create",
    "names",
    "register",
]
