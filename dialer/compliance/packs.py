"""Rule packs: the legal defaults per jurisdiction, which a campaign may only tighten or extend.

US — 47 CFR 64.1200: calls 08:00-21:00 callee-local (c)(1); abandonment at
most 3 % of live-answered calls per campaign over 30 days (a)(7)(i); National
DNC Registry scrubbed at least every 31 days (c)(2)(i)(D), 16 CFR
310.4(b)(3)(iv). State rules: Florida, Oklahoma and Maryland 08:00-20:00 and 3
calls per 24 h. Canadian numbers: CRTC Telemarketing Rules' hours as well.

UK — Ofcom "Persistent misuse" statement (2016, in force 1 March 2017): 3 %
abandoned calls per campaign per 24 h as our conservative default, a repeat
call within 72 h of an abandoned one only with a guaranteed agent; TPS
screening under PECR reg. 21. No statutory calling hours (operator default).
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.compliance.caps import STATE_24H_CAPS
from dialer.compliance.windows import (
    CANADA,
    FEDERAL_US,
    UK_DEFAULT,
    US_STATE_WINDOWS,
    WindowRule,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class RulePack:
    name: str  # "US" / "UK"
    default_region: str  # how to read national-format numbers
    window: WindowRule
    window_is_law: bool  # a campaign may only narrow a statutory window; others it may replace
    region_windows: dict[str, tuple[WindowRule, ...]]
    country_windows: dict[str, tuple[WindowRule, ...]]
    region_caps_24h: dict[str, int]
    registry: str
    # Registries for numbers of other countries the pack calls: Canada's National
    # DNCL (CRTC Unsolicited Telecommunications Rules, Part II) for a US campaign.
    country_registries: dict[str, str]
    uk_abandon_rule: bool
    max_abandonment: float  # the legal ceiling a campaign target must stay under
    abandonment_basis: str


US = RulePack(
    name="US",
    default_region="US",
    window=FEDERAL_US,
    window_is_law=True,
    region_windows={code: (rule,) for code, rule in US_STATE_WINDOWS.items()},
    country_windows={"CA": (CANADA,)},
    region_caps_24h=dict(STATE_24H_CAPS),
    registry="us-national",
    country_registries={"CA": "ca-dncl"},
    uk_abandon_rule=False,
    max_abandonment=0.03,
    abandonment_basis="per campaign over 30 days, of live-answered calls (47 CFR 64.1200(a)(7)(i))",
)
UK = RulePack(
    name="UK",
    default_region="GB",
    window=UK_DEFAULT,
    window_is_law=False,
    region_windows={},
    country_windows={},
    region_caps_24h={},
    registry="uk-tps",
    country_registries={},
    uk_abandon_rule=True,
    max_abandonment=0.03,
    abandonment_basis="per campaign per 24 h, AMD false positives counted (Ofcom, Annex 5)",
)
PACKS = {"US": US, "UK": UK}
