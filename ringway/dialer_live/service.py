"""The live dialer of a service: campaigns, their store, runners, figures and metrics.

    dialer = DialerService(service, telephony, DialerSettings(trunk="192.0.2.10:5060"))
    await dialer.start();  dialer.add_campaign(campaign);  dialer.import_list(name, csv)
    dialer.start_campaign(name);  dialer.status(name);  await dialer.stop()

The dialer store (`dialer.store_sqlite`, ``<data_dir>/dialer.sqlite``) keeps the
DNC list, attempts, proofs and leads across restarts: caps hold after one.
The store is read inline on the event loop: its queries are indexed point
lookups, as the compliance check expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

from dialer.blending import Blender
from dialer.campaign import Campaign, load_campaign, load_campaign_text
from dialer.compliance import Compliance
from dialer.compliance.dnc import add_internal
from dialer.compliance.numbers import to_e164
from dialer.errors import DialerError
from dialer.leads import LeadStatus, Outcome, apply_outcome
from dialer.lists import ImportReport, import_leads
from dialer.pacing import PacingSettings, create
from dialer.pacing.accounting import AbandonmentLedger, rule_pack
from dialer.store_sqlite import SQLiteDialerStore
from ivr.media.audio import PromptLibrary
from ringway.bus import Subscription
from ringway.dialer_live.amd_tap import EnergyDetector, VerdictCollector
from ringway.dialer_live.dial_history import DialledCalls
from ringway.dialer_live.dial_recording import DialRecording
from ringway.dialer_live.outcomes import detector
from ringway.dialer_live.preview_desk import PreviewDesk
from ringway.dialer_live.runner import CampaignRunner, ContactWatch, RunnerParts
from ringway.dialer_live.runner_parts import DesktopHub, DesktopLink
from ringway.dialer_live.settings import DialerSettings
from ringway.dialer_live.wallboard import register, unregister
from ringway.service import RoutingService
from ringway.telephony import Telephony
from router import events as ev

log = logging.getLogger(__name__)
FEED_LIMIT = 1_000_000
_FINISHED = (
    ev.ContactEnded,
    ev.ContactCompleted,
    ev.ContactCancelled,
    ev.ContactAbandoned,
    ev.ContactOverflowed,
    ev.ContactTransferred,
)


class UnknownCampaign(DialerError):
    pass


class DialerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.dial_level = Gauge(
            "ringway_dialer_dial_level",
            "Lines in flight per logged-in agent",
            ["campaign"],
            registry=registry,
        )
        self.abandon_rate = Gauge(
            "ringway_dialer_abandon_rate",
            "Abandoned share of live answers over the rule pack's window",
            ["campaign", "window"],
            registry=registry,
        )
        self.connects_per_agent_hour = Gauge(
            "ringway_dialer_connects_per_agent_hour",
            "Live answers connected to an agent per logged-in agent-hour",
            ["campaign"],
            registry=registry,
        )
        self.attempts = Counter(
            "ringway_dialer_attempts",
            "Dial attempts by outcome (refused: stopped by the compliance check)",
            ["campaign", "outcome"],
            registry=registry,
        )


class DialerService:
    def __init__(
        self,
        service: RoutingService,
        telephony: Telephony,
        settings: DialerSettings,
        *,
        store_path: Path | None = None,
        registry: CollectorRegistry | None = None,
        wall: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.service, self.telephony, self.settings = service, telephony, settings
        self.store_path = (
            store_path or Path(service.config.path_setting("{data_dir}")) / "dialer.sqlite"
        )
        self._store: SQLiteDialerStore | None = None  # opened by `start`
        self._compliance: Compliance | None = None
        self.wall = wall or (lambda: datetime.now(UTC))
        self.rng = rng or random.Random(os.urandom(16))
        registry = registry or service.metrics.registry
        self.metrics = DialerMetrics(registry)
        amd_fp = settings.amd_false_positive_rate  # UK: AMD releases count as abandons
        self.ledgers = {name: AbandonmentLedger(rule_pack(name, amd_fp)) for name in ("US", "UK")}
        self.campaigns: dict[str, Campaign] = {}
        self.runners: dict[str, CampaignRunner] = {}
        self.watches: dict[str, ContactWatch] = {}
        self.prompts = PromptLibrary()
        self.detector = detector(settings.detector, settings.amd)
        if isinstance(self.detector, EnergyDetector):
            registry.register(VerdictCollector(self.detector))
        self.blender = Blender()
        self.desktop = DesktopLink()  # agent desktops, for preview mode (`attach_desktop`)
        self.previews = PreviewDesk(self.runners)
        self.dialled = DialledCalls(service, telephony.centre.archive)
        self._feed: asyncio.Task[None] | None = None

    def attach_desktop(self, hub: DesktopHub) -> None:
        """Reach agents' desktops through ``hub`` (the preview frames and results)."""
        self.desktop.hub = hub

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def store(self) -> SQLiteDialerStore:
        if self._store is None:
            raise DialerError("the dialer is not started")
        return self._store

    @property
    def compliance(self) -> Compliance:
        if self._compliance is None:
            raise DialerError("the dialer is not started")
        return self._compliance

    async def start(self) -> None:
        self.store_path.parent.mkdir(parents=True, exist_ok=True)
        self._store = SQLiteDialerStore(self.store_path)
        self._compliance = Compliance(self._store)
        self._load_saved_campaigns()
        self._feed = asyncio.get_running_loop().create_task(self._follow(), name="dialer-feed")
        register(self.service, self.wallboard)
        self.service.release_hooks.append(self.previews.agent_released)

    async def stop(self) -> None:
        unregister(self.service)
        with contextlib.suppress(ValueError):
            self.service.release_hooks.remove(self.previews.agent_released)
        for runner in self.runners.values():
            await runner.stop()
        if self._feed is not None:
            self._feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed
            self._feed = None
        if self._store is not None:
            self._store.close()
            self._store = self._compliance = None
        await self.dialled.close()

    async def _follow(self) -> None:
        subscription: Subscription = self.service.subscribe(limit=FEED_LIMIT)
        while True:
            async for event in subscription:
                self._on_event(event)
            if subscription.reason == "service stopping":
                return
            subscription = self.service.subscribe(subscription.last_seq, limit=FEED_LIMIT)

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.AgentStateChanged):
            for runner in self.runners.values():
                runner.wake()  # an agent came free: maybe dial now
        contact_id = getattr(event, "contact_id", None)
        watch = self.watches.get(contact_id) if contact_id else None
        if watch is None:
            return
        if isinstance(event, ev.ContactOffered) and watch.on_offer is not None:
            watch.on_offer(event.agent_id)  # ring the agent's phone
        elif isinstance(event, ev.OfferRejected | ev.OfferRescinded):
            if watch.on_withdrawn is not None:
                watch.on_withdrawn(event.agent_id)
        elif isinstance(event, ev.OfferAccepted):
            watch.accepted.set()
        elif isinstance(event, ev.ContactTransferred) and watch.on_transferred is not None:
            watch.on_transferred()  # the customer stays on: the next agent's phone is rung
        elif isinstance(event, _FINISHED):
            watch.finished.set()

    # -- campaigns -----------------------------------------------------------------------

    def add_campaign(self, campaign: Campaign) -> None:
        """Load or replace a campaign (not while it runs)."""
        if campaign.name in self.runners and self.runners[campaign.name].running:
            raise DialerError(f"campaign {campaign.name} is running; stop it first")
        if campaign.queue is None or campaign.queue not in self.service.router.queues:
            known = ", ".join(sorted(self.service.router.queues))
            raise DialerError(
                f"campaign {campaign.name}: queue {campaign.queue!r} is not a queue here ({known})"
            )
        self.campaigns[campaign.name] = campaign

    def add_campaign_text(self, text: str, source: str = "<campaign>") -> Campaign:
        """Load a campaign from its YAML and keep the file, so a restart finds it again."""
        campaign = load_campaign_text(text, source)
        self.add_campaign(campaign)
        self.campaign_dir.mkdir(parents=True, exist_ok=True)
        (self.campaign_dir / f"{campaign.name}.yaml").write_text(text, encoding="utf-8")
        return campaign

    @property
    def campaign_dir(self) -> Path:
        return self.store_path.parent / "dialer-campaigns"

    def _load_saved_campaigns(self) -> None:
        if not self.campaign_dir.is_dir():
            return
        for path in sorted(self.campaign_dir.glob("*.yaml")):
            try:
                campaign = load_campaign(path)
                self.add_campaign(campaign)
            except DialerError as exc:  # e.g. its queue left the configuration
                log.warning("dialer: campaign not loaded: %s", exc)
                continue
            self._recover(campaign)

    def _recover(self, campaign: Campaign) -> None:
        """Leads left "dialling" by a stopped process: that attempt failed; retry by the
        rules (its attempt record stays and still counts for the caps)."""
        at = self.wall()
        for lead in self.store.leads(campaign.name):
            if lead.status is LeadStatus.DIALLING:
                retry = apply_outcome(
                    lead, Outcome.FAILED, at, campaign.retry, campaign.caps.lifetime
                )
                self.store.put_lead(retry)

    def campaign(self, name: str) -> Campaign:
        try:
            return self.campaigns[name]
        except KeyError:
            raise UnknownCampaign(f"unknown campaign {name!r}") from None

    def import_list(self, name: str, text: str, source: str = "<upload>") -> ImportReport:
        return import_leads(text, source=source, campaign=self.campaign(name), store=self.store)

    def add_dnc(self, number: str, source: str, reason: str = "") -> str:
        e164 = to_e164(number)
        add_internal(self.store, e164, self.wall(), source, reason)
        return e164

    def start_campaign(self, name: str) -> None:
        campaign = self.campaign(name)
        runner = self.runners.get(name)
        if runner is None or runner.campaign is not campaign:
            runner = self.runners[name] = self._runner(campaign)
        runner.start()

    async def stop_campaign(self, name: str) -> None:
        self.campaign(name)
        runner = self.runners.get(name)
        if runner is not None:
            await runner.stop()

    def _runner(self, campaign: Campaign) -> CampaignRunner:
        settings, uk = self.settings, campaign.pack.name == "UK"
        pacing = PacingSettings(
            target_abandon=campaign.abandonment_target,
            ring_timeout_s=max(settings.ring_timeout_s, 15.0),  # the pacer's model
            grace_s=settings.grace_s,
            reevaluate_s=settings.reevaluate_s,
            amd_false_positive_rate=settings.amd_false_positive_rate if uk else 0.0,
        )
        policy = create(campaign.mode, pacing, self.rng)
        parts = RunnerParts(
            service=self.service,
            compliance=self.compliance,
            edge=self.telephony.edge,
            host=self.telephony.settings.host,
            settings=settings,
            ledger=self.ledgers[campaign.pack.name],
            detector=self.detector,
            blender=self.blender,
            prompts=self.prompts,
            watches=self.watches,
            wall=self.wall,
            rng=self.rng,
            on_outcome=self._count,
            on_refused=lambda name: self.metrics.attempts.labels(name, "refused").inc(),
            phone_of=self.telephony.centre.phone_of,  # the B2BUA's registrar lookup
            rona=self.telephony.centre.reject,  # RONA as for inbound (480: disconnected)
            desktop=self.desktop,
            recording=DialRecording(self.telephony.centre.archive, self.prompts),
            on_dialled=self.dialled.filed,  # each attempt's CDR and history note
        )
        return CampaignRunner(campaign, policy, parts)

    def _count(self, campaign: str, outcome: Outcome) -> None:
        self.metrics.attempts.labels(campaign, outcome.value).inc()
        self.refresh(campaign)

    # -- figures -------------------------------------------------------------------------

    def status(self, name: str) -> dict[str, Any]:
        campaign = self.campaign(name)
        runner = self.runners.get(name)
        self.refresh(name)
        ledger = self.ledgers[campaign.pack.name]
        counts = ledger.counts(name, self.wall().timestamp())
        figures = runner.figures if runner is not None else None
        leads = self.store.leads(name)
        return {
            "campaign": name,
            "mode": campaign.mode,
            "queue": campaign.queue,
            "running": runner is not None and runner.running,
            "dial_level": figures.dial_level if figures else 0.0,
            "lines_in_flight": figures.in_flight if figures else 0,
            "abandon_rate": {
                "window": _window_name(ledger),
                "rule_pack": campaign.pack.name,
                "rate": ledger.rate(name, self.wall().timestamp()),
                "cap": ledger.pack.cap,
                "counts": {
                    "connected_human": counts.connected_human,
                    "dropped": counts.dropped,
                    "amd_machine": counts.amd_machine,
                },
            },
            "connects_per_agent_hour": _per_hour(figures.connects, figures.agent_seconds)
            if figures
            else None,
            "attempts": dict(figures.outcomes) if figures else {},
            "refused": figures.refused if figures else 0,
            "pacing": figures.last_reason if figures else "",
            "held_for_inbound": figures.held_for_inbound if figures else 0,
            "agent_phones": {
                "connects": figures.phone_connects if figures else 0,
                "relayed": dict(figures.relayed) if figures else {},
            },
            "safe_harbour": {
                "played": figures.safe_harbour_played if figures else 0,
                "max_delay_s": figures.safe_harbour_max_delay_s if figures else 0.0,
                "echoed_packets": figures.safe_harbour_echoed if figures else 0,
            },
            "previews": runner.previews.rows() if runner is not None else [],
            "previews_ended": dict(runner.previews.skipped) if runner is not None else {},
            "leads": {
                status: sum(1 for x in leads if x.status == status)
                for status in sorted({x.status.value for x in leads})
            },
        }

    def wallboard(self) -> list[dict[str, Any]]:
        """The wallboard's row per campaign (a subset of `status`, no lead scan)."""
        rows = []
        at = self.wall().timestamp()
        for name in sorted(self.campaigns):
            campaign, runner = self.campaigns[name], self.runners.get(name)
            ledger = self.ledgers[campaign.pack.name]
            counts = ledger.counts(name, at)
            figures = runner.figures if runner is not None else None
            rows.append(
                {
                    "campaign": name,
                    "mode": campaign.mode,
                    "running": runner is not None and runner.running,
                    "dial_level": figures.dial_level if figures else 0.0,
                    "lines_in_flight": figures.in_flight if figures else 0,
                    "abandon_rate": {
                        "window": _window_name(ledger),
                        "rule_pack": campaign.pack.name,
                        "rate": ledger.rate(name, at),
                        "cap": ledger.pack.cap,
                        "dropped": counts.dropped,
                        "connected": counts.connected_human,
                    },
                    "connects_per_agent_hour": _per_hour(figures.connects, figures.agent_seconds)
                    if figures
                    else None,
                    "previews": runner.previews.rows() if runner is not None else [],
                }
            )
        return rows

    def refresh(self, name: str) -> None:
        """Bring the campaign's gauges up to date."""
        campaign, runner = self.campaigns.get(name), self.runners.get(name)
        if campaign is None or runner is None:
            return
        ledger = self.ledgers[campaign.pack.name]
        rate = ledger.rate(name, self.wall().timestamp())
        self.metrics.dial_level.labels(name).set(runner.figures.dial_level)
        self.metrics.abandon_rate.labels(name, _window_name(ledger)).set(rate or 0.0)
        per_hour = _per_hour(runner.figures.connects, runner.figures.agent_seconds)
        self.metrics.connects_per_agent_hour.labels(name).set(per_hour or 0.0)


def _window_name(ledger: AbandonmentLedger) -> str:
    return f"{ledger.pack.window_s / 86_400:g}d"


def _per_hour(connects: int, agent_seconds: float) -> float | None:
    return connects / (agent_seconds / 3600) if agent_seconds > 0 else None
