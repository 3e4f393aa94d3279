"""The REST API, one module per resource, mounted under ``/api/v1``.

Every route depends on a role check from `ringway.auth` except login and the
health probe; ``tests/api/test_api_auth.py`` audits that.
"""

from __future__ import annotations

from fastapi import APIRouter

from ringway.api import (
    agents,
    cdrs,
    contacts,
    customers,
    dialer,
    events,
    health,
    login,
    offers,
    queues,
    recordings,
)

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    root = APIRouter(prefix=PREFIX)
    for module in (login, contacts, queues, agents, offers, customers, events, recordings, cdrs):
        root.include_router(module.router)
    root.include_router(dialer.router)
    root.include_router(health.router, include_in_schema=False)
    return root


def health_router() -> APIRouter:
    return health.router
