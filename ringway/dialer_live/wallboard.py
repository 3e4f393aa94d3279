"""The dialer's figures for the supervisor wallboard, found from the routing service.

The desktop hub is built without a reference to the dialer (the dialer needs the
SIP edge, the hub does not); a running `DialerService` registers its figures
here under its `RoutingService`, and the supervisor snapshot looks them up.
Weak keys: a stopped service (tests build many) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

Figures = Callable[[], list[dict[str, Any]]]
_SOURCES: WeakKeyDictionary[object, Figures] = WeakKeyDictionary()


def register(service: object, figures: Figures) -> None:
    _SOURCES[service] = figures


def unregister(service: object) -> None:
    _SOURCES.pop(service, None)


def dialer_figures(service: object) -> list[dict[str, Any]] | None:
    """Per campaign: dial level, abandon rate per window, connects per agent-hour;
    None when the service runs no dialer."""
    source = _SOURCES.get(service)
    return None if source is None else source()
