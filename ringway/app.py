"""The composition root: config in, a FastAPI app with its routing service out.

``ringway serve`` calls `build` and prints ``admin_token`` and
``generated_passwords`` from the `ServiceBundle`; tests call `build` too (or
`create_app` when they only need the app). Nothing here opens a file or starts
a task: the app's lifespan starts the `RoutingService` (event log, timer) and
stops it (flush, close), so an app can be built and thrown away cheaply.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Route

from agent_desktop.hub import Hub
from agent_desktop.routes import install as install_desktop
from channels.mail.desk import MailDesk
from channels.mail.intake import IntakeHandler, MailIntake
from channels.mail.store import open_case_store
from crm.demo import seed
from crm.memory import MemoryCustomerStore
from crm.postgres import PostgresCustomerStore
from crm.sqlite import SQLiteCustomerStore
from crm.store import CustomerStore
from ringway.api import PREFIX as API_PREFIX
from ringway.api import api_router, health_router
from ringway.api import calls as calls_api
from ringway.api.errors import install as install_error_handlers
from ringway.auth import Authenticator, Role, bearer_token
from ringway.calls import CallRecords
from ringway.cluster import ClusterNode, probe_redis
from ringway.cluster.middleware import ClusterMiddleware
from ringway.config import ConfigError, RingwayConfig
from ringway.dialer_live.service import DialerService
from ringway.dialer_live.settings import DialerSettings
from ringway.metrics import MetricsEndpoint, ServiceMetrics
from ringway.pgsupport import POSTGRES_PREFIX, redact
from ringway.service import RoutingService
from ringway.sip_metrics import SipEdgeCollector
from ringway.telephony import Telephony, TelephonySettings, sip_credentials

log = logging.getLogger(__name__)
SQLITE_PREFIX = "sqlite:///"
MEMORY_URL = "memory://"
DIALER_TRUNK_ENV = "RINGWAY_DIALER_TRUNK"  # host:port of the carrier: enables the dialer


@dataclass(slots=True)
class ServiceBundle:
    app: FastAPI
    service: RoutingService
    admin_token: str
    generated_passwords: dict[str, str] = field(default_factory=dict)
    auth: Authenticator | None = None
    desktop: Hub | None = None
    mail: MailDesk | None = None
    intake: MailIntake | None = None
    calls: CallRecords | None = None  # recordings, CDRs, call control (telephony plugs in)
    telephony: Telephony | None = None
    sip_passwords: dict[str, str] = field(default_factory=dict)  # generated, by extension
    dialer: DialerService | None = None  # outbound campaigns (needs the SIP edge)


def customer_store(config: RingwayConfig) -> CustomerStore:
    """The store ``service.customer_store`` names: ``sqlite:///path``, ``postgresql://…``
    (connected in the app's lifespan, on its loop) or ``memory://``."""
    url = config.path_setting(config.service.customer_store)
    if url == MEMORY_URL:
        return MemoryCustomerStore()
    if url.startswith(POSTGRES_PREFIX):
        return PostgresCustomerStore(url)
    if url.startswith(SQLITE_PREFIX):
        path = Path(url.removeprefix(SQLITE_PREFIX))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteCustomerStore(path)
    raise ConfigError(
        config.source,
        None,
        "service.customer_store",
        f"{redact(url)!r}: expected {SQLITE_PREFIX}<path>, {POSTGRES_PREFIX}<user>@<host>/<db>"
        f" or {MEMORY_URL}",
    )


def build(
    config: RingwayConfig,
    env: Mapping[str, str] = os.environ,
    *,
    sip: TelephonySettings | None = None,
    sip_required: bool = True,
    dialer: DialerSettings | None = None,
) -> ServiceBundle:
    """``sip``: also run the SIP edge and call control; ``sip_required`` False lets the
    service start without it when its port is taken (the default port of ``serve``)."""
    auth = Authenticator(config, env)
    metrics = ServiceMetrics()
    node = cluster_node(config)
    service = RoutingService(config, customer_store(config), metrics=metrics, host=node)
    # Opened (and written once) here: a corrupt or read-only file is one line, exit 2.
    cases = open_case_store(
        Path(config.path_setting(config.service.mail_cases)),
        intake=config.service.smtp_port is not None,
    )
    mail = MailDesk(service, config.mail, config.routing.entry_points, store=cases)
    intake = _intake(config, mail)
    calls = CallRecords(service)
    telephony, sip_passwords = _telephony(config, env, service, sip, calls)
    outbound = _dialer(env, service, telephony, dialer, metrics)
    hub: Hub | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        assert hub is not None
        try:
            # A probe read: a bad path or a newer schema fails the start, not the first call.
            await service.customers.list(0, 1)
            if config.service.seed_demo_customers:
                await seed(service.customers)
            await service.start()
            calls.start()
            await hub.start()
            await mail.start()  # cases reloaded, unfinished e-mails queued again
            if config.service.smtp_port is not None:
                await intake.start(config.service.host, config.service.smtp_port)
            await _start_telephony(telephony, sip_required)
            if outbound is not None:
                await outbound.start()
        except BaseException:
            await _stop_dialer(outbound)
            await _stop(intake, hub, service, calls, telephony, mail)
            raise
        try:
            yield
        finally:
            await _stop_dialer(outbound)
            await _stop(intake, hub, service, calls, telephony, mail)

    app = FastAPI(
        title="Ringway",
        summary="Contact-centre routing engine: contacts, queues, agents, customers.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service, app.state.auth, app.state.config = service, auth, config
    app.state.calls = calls
    app.state.telephony = telephony
    app.state.dialer = outbound
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(health_router())
    guard = None if config.service.metrics_public else _supervisor_guard(auth)
    endpoint = MetricsEndpoint(metrics.registry, guard)
    app.router.routes.append(Route("/metrics", endpoint, include_in_schema=False))
    if node is not None:
        # Followers forward the API to the leader; the leader answers once committed.
        app.add_middleware(ClusterMiddleware, node=node)
        node.app = app
    if telephony is not None:
        app.include_router(calls_api.router, prefix=API_PREFIX)
        metrics.registry.register(SipEdgeCollector(telephony.edge))
    hub = install_desktop(app, service, auth, config, mail)
    if outbound is not None:  # preview dialing reaches the agents' desktops
        outbound.attach_desktop(hub)
        hub.previews = outbound.previews
    if node is not None and hub.chat is not None:  # chats/mails whose agent is on another node
        hub.chat.relay = mail.relay_link = node.chat_link
        node.chat_link.handlers += [hub.chat, mail]
    passwords = dict(auth.generated_passwords)
    return ServiceBundle(
        app,
        service,
        auth.admin_token,
        passwords,
        auth,
        hub,
        mail,
        intake,
        calls,
        telephony,
        sip_passwords,
        outbound,
    )


def _telephony(
    config: RingwayConfig,
    env: Mapping[str, str],
    service: RoutingService,
    sip: TelephonySettings | None,
    calls: CallRecords,
) -> tuple[Telephony | None, dict[str, str]]:
    if sip is None:
        return None, {}
    credentials, generated = sip_credentials(config, env)
    return Telephony(service, sip, credentials, calls=calls), generated


def _dialer(
    env: Mapping[str, str],
    service: RoutingService,
    telephony: Telephony | None,
    settings: DialerSettings | None,
    metrics: ServiceMetrics,
) -> DialerService | None:
    """The live dialer when there is a SIP edge and a trunk (``settings`` or the env)."""
    if settings is None and env.get(DIALER_TRUNK_ENV):
        settings = DialerSettings.from_env(env)  # with RINGWAY_DIALER_DETECTOR, _AMD
    if telephony is None or settings is None:
        return None
    return DialerService(service, telephony, settings, registry=metrics.registry)


async def _stop_dialer(dialer: DialerService | None) -> None:
    if dialer is not None:
        await dialer.stop()


async def _start_telephony(telephony: Telephony | None, required: bool) -> None:
    if telephony is None:
        return
    try:
        await telephony.start()
    except OSError as exc:
        if required:
            raise
        log.warning("SIP edge not started: %s", exc)
        await telephony.stop()


def cluster_node(config: RingwayConfig) -> ClusterNode | None:
    """A Redis cluster node when ``service.redis_url`` is set, else None (one embedded node).

    Redis is probed here, not in the lifespan: `ringway serve` reports a `ValueError`
    from `build` as one line and exit code 2, while a lifespan failure is a traceback.
    """
    if config.service.redis_url is None:
        return None
    probe_redis(config.service.redis_url)
    return ClusterNode(config)


def _intake(config: RingwayConfig, mail: MailDesk) -> MailIntake:
    settings = config.mail
    handler = IntakeHandler(
        mail.accepts,
        mail.receive,
        body_chars=settings.body_chars,
        id_domain=settings.message_id_domain,
    )
    return MailIntake(
        handler, hostname=settings.message_id_domain, data_size_limit=settings.max_message_bytes
    )


async def _stop(
    intake: MailIntake,
    hub: Hub,
    service: RoutingService,
    calls: CallRecords,
    telephony: Telephony | None = None,
    mail: MailDesk | None = None,
) -> None:
    """Stop calls and mail, close the desktops and call records, then the service."""
    try:
        if telephony is not None:
            await telephony.stop()
        await intake.stop()
        await hub.stop()
        if mail is not None:  # after the desktops: no reply or event writes come later
            await mail.close()
        await calls.close()
    finally:
        await service.stop()


def _supervisor_guard(auth: Authenticator) -> Callable[[str | None], object]:
    def guard(authorization: str | None) -> object:
        return auth.authorize(bearer_token(authorization), Role.SUPERVISOR)

    return guard


def create_app(config: RingwayConfig, *, env: Mapping[str, str] = os.environ) -> FastAPI:
    return build(config, env).app
