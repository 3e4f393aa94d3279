"""Campaigns: what to call, with which agents, under which rules (a YAML file).

A campaign names its lists, dialling mode (preview, progressive — one line per
free agent — or predictive), the queue/agents/skills it may use, the caller ID
and safe-harbour prompt, the jurisdiction's rule pack (US or UK) and anything
stricter: calling windows per region, holidays, attempt caps, retry rules.
Problems are reported like `ringway config check`: ``file:line: key: problem``.

The pack is a floor: a campaign cannot loosen it. Its windows replace the base
window only if they fit inside the pack's, abandonment targets above the legal
3 % are refused, and region windows are checked *in addition to* the base and
to the pack's own rule for that region.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path

from pydantic import ValidationError

from dialer.campaign_schema import CampaignDoc, WindowDoc
from dialer.compliance.caps import CapPolicy
from dialer.compliance.dnc import RegistryRule
from dialer.compliance.numbers import to_e164
from dialer.compliance.packs import PACKS, US, RulePack
from dialer.compliance.windows import DAY_NAMES, DailyWindow, WindowPolicy, WindowRule
from dialer.errors import CampaignError, InvalidNumber
from dialer.leads import DEFAULT_RETRY, Outcome, RetryRule
from ringway.yamlmarks import YamlSyntaxError, line_of, load_with_marks

KeyPath = tuple[Hashable, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class PreviewRule:
    """Preview mode: the agent reads the lead for up to ``timeout_s``; then the lead is
    skipped (``on_timeout="skip"``) or dialled (``"dial"``). A skipped lead is due
    again ``skip_retry`` later."""

    timeout_s: float = 30.0
    on_timeout: str = "skip"
    skip_retry: timedelta = timedelta(hours=1)


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordingRule:
    """Record dialled calls once bridged; ``announcement`` (a prompt name) first."""

    enabled: bool = False
    announcement: str | None = None
    format: str = "stereo"  # or "mono"


@dataclass(frozen=True, kw_only=True, slots=True)
class Campaign:
    name: str
    pack: RulePack
    mode: str = "progressive"
    lists: tuple[str, ...] = ()
    queue: str | None = None
    agents: tuple[str, ...] = ()
    skills: str | None = None
    caller_id: str | None = None
    safe_harbour_prompt: str | None = None
    purpose: str = "marketing_calls"
    consent_required: bool = False
    abandonment_target: float = 0.03
    default_region: str = "US"
    windows: WindowPolicy = field(default_factory=lambda: default_windows(US))
    caps: CapPolicy = field(default_factory=lambda: CapPolicy(regions_24h=dict(US.region_caps_24h)))
    retry: dict[Outcome, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRY))
    registry: RegistryRule = field(default_factory=lambda: RegistryRule(registry=US.registry))
    required_fields: tuple[str, ...] = ()
    preview: PreviewRule = field(default_factory=PreviewRule)
    recording: RecordingRule = field(default_factory=RecordingRule)
    source: str = "<default>"


def default_windows(pack: RulePack) -> WindowPolicy:
    return WindowPolicy(
        base=pack.window,
        regions=dict(pack.region_windows),
        countries=dict(pack.country_windows),
    )


def default_campaign(jurisdiction: str = "US") -> Campaign:
    """The rule pack with nothing added: what ``ringway dialer check`` uses without --campaign."""
    pack = PACKS[jurisdiction]
    return Campaign(
        name=f"default-{pack.name.lower()}",
        pack=pack,
        default_region=pack.default_region,
        windows=default_windows(pack),
        caps=CapPolicy(
            regions_24h=dict(pack.region_caps_24h), uk_abandon_rule=pack.uk_abandon_rule
        ),
        registry=RegistryRule(registry=pack.registry),
        source=f"<{pack.name} rule pack>",
    )


def load_campaign(path: str | Path) -> Campaign:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CampaignError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    return load_campaign_text(text, str(path))


def load_campaign_text(text: str, source: str = "<campaign>") -> Campaign:
    try:
        data, marks = load_with_marks(text)
    except YamlSyntaxError as exc:
        raise CampaignError(source, exc.line, "", exc.problem) from None
    if not isinstance(data, dict):
        raise CampaignError(
            source, 1, "", "a campaign file must be a mapping (name, caller_id, ...)"
        )
    try:
        doc = CampaignDoc.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = tuple(p for p in first["loc"] if p not in _PYDANTIC_LOC_NOISE)
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise CampaignError(
            source, line_of(marks, path), _dotted(path), first["msg"] + more
        ) from None
    return _Builder(doc, source, marks).build()


# Parts pydantic adds to an error location that are not YAML keys.
_PYDANTIC_LOC_NOISE = frozenset({"[key]"})


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Builder:
    def __init__(self, doc: CampaignDoc, source: str, marks: dict[KeyPath, int]) -> None:
        self.doc, self.source, self.marks = doc, source, marks
        self.pack = PACKS[doc.jurisdiction]

    def fail(self, path: KeyPath, problem: str) -> CampaignError:
        return CampaignError(self.source, line_of(self.marks, path), _dotted(path), problem)

    def build(self) -> Campaign:
        doc, pack = self.doc, self.pack
        region = (doc.default_region or pack.default_region).upper()
        if doc.abandonment_target > pack.max_abandonment:
            raise self.fail(
                ("abandonment_target",),
                f"{doc.abandonment_target} is above the legal {pack.max_abandonment} "
                f"({pack.abandonment_basis})",
            )
        if doc.mode == "predictive" and not doc.safe_harbour_prompt:
            raise self.fail(
                ("safe_harbour_prompt",),
                "predictive mode needs a safe-harbour prompt (47 CFR 64.1200(a)(7)(i)(A))",
            )
        return Campaign(
            name=doc.name,
            pack=pack,
            mode=doc.mode,
            lists=tuple(doc.lists),
            queue=doc.queue,
            agents=tuple(doc.agents),
            skills=doc.skills,
            caller_id=self.caller_id(region),
            safe_harbour_prompt=doc.safe_harbour_prompt,
            purpose=doc.purpose,
            consent_required=doc.consent_required,
            abandonment_target=doc.abandonment_target,
            default_region=region,
            windows=self.windows(),
            caps=self.caps(),
            retry=self.retry(),
            registry=RegistryRule(
                registry=pack.registry, block_when_stale=doc.stale_registry == "block"
            ),
            required_fields=tuple(doc.required_fields),
            preview=PreviewRule(
                timeout_s=doc.preview.timeout_s,
                on_timeout=doc.preview.on_timeout,
                skip_retry=timedelta(minutes=doc.preview.skip_retry_minutes),
            ),
            recording=RecordingRule(
                enabled=doc.recording.enabled,
                announcement=doc.recording.announcement,
                format=doc.recording.format,
            ),
            source=self.source,
        )

    def caller_id(self, region: str) -> str:
        # 47 CFR 64.1601(e): telemarketers must transmit a caller ID that can be called back.
        try:
            return to_e164(self.doc.caller_id, region)
        except InvalidNumber as exc:
            raise self.fail(("caller_id",), str(exc)) from None

    def windows(self) -> WindowPolicy:
        spec = self.doc.windows
        base = self.pack.window
        if spec.default is not None:
            base = self.rule(("windows", "default"), spec.default, f"campaign {self.doc.name}")
            if self.pack.window_is_law:
                self.inside_pack(base)
        return WindowPolicy(
            base=base,
            regions=self.keyed("regions", spec.regions, self.pack.region_windows),
            countries=self.keyed("countries", spec.countries, self.pack.country_windows),
            holidays=frozenset(spec.holidays),
        )

    def keyed(
        self,
        section: str,
        given: dict[str, list[WindowDoc]],
        pack_rules: dict[str, tuple[WindowRule, ...]],
    ) -> dict[str, tuple[WindowRule, ...]]:
        """The pack's rules per region/country, each with the campaign's added (never replaced)."""
        rules = dict(pack_rules)
        for code, docs in given.items():
            path = ("windows", section, code)
            if len(code) != 2 or not code.isalpha():
                raise self.fail(path, f"{section} are two-letter codes (FL, ON / CA, US, ...)")
            rule = self.rule(path, docs, f"campaign {self.doc.name}")
            rules[code.upper()] = (*rules.get(code.upper(), ()), rule)
        return rules

    def inside_pack(self, rule: WindowRule) -> None:
        floor = self.pack.window
        for index, window in enumerate(rule.windows):
            for day in window.days:
                fits = any(
                    day in w.days and w.start <= window.start and window.end <= w.end
                    for w in floor.windows
                )
                if not fits:
                    raise self.fail(
                        ("windows", "default", index),
                        f"{window.describe()} is wider than the {self.pack.name} pack's "
                        f"{floor.describe()} ({floor.source})",
                    )

    def rule(self, path: KeyPath, docs: list[WindowDoc], source: str) -> WindowRule:
        if not docs:
            raise self.fail(path, "give at least one window")
        return WindowRule(
            windows=tuple(self.window((*path, i), d) for i, d in enumerate(docs)), source=source
        )

    def window(self, path: KeyPath, doc: WindowDoc) -> DailyWindow:
        start, end = self.clock((*path, "start"), doc.start), self.clock((*path, "end"), doc.end)
        if end <= start:
            raise self.fail((*path, "end"), f"{doc.end} is not after start {doc.start}")
        return DailyWindow(start=start, end=end, days=self.days((*path, "days"), doc.days))

    def clock(self, path: KeyPath, text: str) -> time:
        try:
            return time.fromisoformat(text)
        except ValueError:
            raise self.fail(path, f"{text!r} is not a time of day (HH:MM)") from None

    def days(self, path: KeyPath, text: str) -> frozenset[int]:
        out: set[int] = set()
        for part in text.lower().replace(" ", "").split(","):
            first, _, last = part.partition("-")
            if first not in DAY_NAMES or (last and last not in DAY_NAMES):
                raise self.fail(path, f"{text!r}: days are mon..sun, e.g. 'mon-fri' or 'sat,sun'")
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
            out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        return frozenset(out)

    def caps(self) -> CapPolicy:
        spec = self.doc.caps
        regions = dict(self.pack.region_caps_24h)
        for code, cap in spec.regions.items():
            if cap < 1:
                raise self.fail(("caps", "regions", code), "a cap is at least 1")
            # A campaign may tighten a legal cap, never loosen it.
            regions[code.upper()] = min(cap, regions.get(code.upper(), cap))
        return CapPolicy(
            lifetime=spec.lifetime,
            per_24h=spec.per_24h,
            regions_24h=regions,
            uk_abandon_rule=self.pack.uk_abandon_rule,
        )

    def retry(self) -> dict[Outcome, RetryRule]:
        rules = dict(DEFAULT_RETRY)
        for name, doc in self.doc.retry.items():
            rules[Outcome(name)] = RetryRule(
                after=timedelta(minutes=doc.after_minutes), max_retries=doc.max
            )
        return rules
