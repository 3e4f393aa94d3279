"""Campaign files: the rule pack is a floor, and every problem is one located line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dialer.campaign import default_campaign, load_campaign, load_campaign_text
from dialer.errors import CampaignError
from dialer.leads import Outcome

GOOD = """\
name: spring-renewals
jurisdiction: US
mode: predictive
lists: [leads/spring.csv]
queue: outbound-sales
agents: [alice, bob]
skills: "sales>=2"
caller_id: "(212) 555-0100"
safe_harbour_prompt: safe-harbour-us
purpose: marketing_calls
consent_required: true
abandonment_target: 0.025
windows:
  default:
    - {start: "09:00", end: "20:00", days: mon-fri}
    - {start: "10:00", end: "18:00", days: sat}
  regions:
    TX:
      - {start: "09:00", end: "21:00", days: mon-sat}
      - {start: "12:00", end: "21:00", days: sun}
  holidays: [2026-12-25, 2027-01-01]
caps: {lifetime: 6, per_24h: 4, regions: {TX: 2}}
retry:
  busy: {after_minutes: 10, max: 5}
  machine: {after_minutes: 1440, max: 1}
required_fields: [name]
"""


def test_a_full_campaign_loads() -> None:
    campaign = load_campaign_text(GOOD, "spring.yaml")
    assert campaign.name == "spring-renewals" and campaign.mode == "predictive"
    assert campaign.caller_id == "+12125550100"
    assert campaign.agents == ("alice", "bob") and campaign.queue == "outbound-sales"
    assert campaign.consent_required and campaign.abandonment_target == 0.025
    assert [w.describe() for w in campaign.windows.base.windows] == [
        "09:00-20:00 mon,tue,wed,thu,fri",
        "10:00-18:00 sat",
    ]
    # Florida's statutory rule stays; Texas gets the campaign's rule.
    assert campaign.windows.regions["FL"][0].source == "Fla. Stat. 501.059(8)(a)"
    assert (
        campaign.windows.regions["TX"][0].describe()
        == "09:00-21:00 mon,tue,wed,thu,fri,sat or 12:00-21:00 sun"
    )
    assert len(campaign.windows.holidays) == 2
    assert campaign.caps.lifetime == 6 and campaign.caps.per_24h == 4
    assert campaign.caps.regions_24h == {"FL": 3, "OK": 3, "MD": 3, "TX": 2}
    assert campaign.retry[Outcome.BUSY].after == timedelta(minutes=10)
    assert campaign.retry[Outcome.NO_ANSWER].max_retries == 4  # default kept
    assert campaign.required_fields == ("name",)


def test_a_campaign_region_rule_adds_to_the_state_rule_never_replaces_it() -> None:
    campaign = load_campaign_text(
        'name: c\ncaller_id: "+12125550100"\nwindows:\n  regions:\n'
        '    FL: [{start: "08:00", end: "21:00"}]\n'
    )
    sources = [rule.source for rule in campaign.windows.regions["FL"]]
    assert sources == ["Fla. Stat. 501.059(8)(a)", "campaign c"]


def test_uk_window_is_policy_and_may_be_replaced() -> None:
    # The UK has no statutory calling hours: the pack's 08:00-21:00 is a default.
    uk = load_campaign_text(
        'name: uk\njurisdiction: UK\ncaller_id: "020 7946 0000"\nwindows:\n  default:\n'
        '    - {start: "09:00", end: "21:30", days: mon-sat}\n'
    )
    assert uk.windows.base.describe() == "09:00-21:30 mon,tue,wed,thu,fri,sat"
    assert uk.windows.base.source == "campaign uk"


def test_uk_pack_defaults() -> None:
    uk = load_campaign_text('name: uk\njurisdiction: UK\ncaller_id: "020 7946 0000"\n')
    assert uk.caller_id == "+442079460000" and uk.default_region == "GB"
    assert uk.caps.uk_abandon_rule and uk.registry.registry == "uk-tps"
    assert default_campaign().caps.uk_abandon_rule is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n", "c.yaml:1: caller_id: Field required"),
        (
            'name: x\ncaller_id: "+12125550100"\nmode: blaster\n',
            "c.yaml:3: mode: Input should be 'preview', 'progressive' or 'predictive'",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nmode: predictive\n',
            "c.yaml:1: safe_harbour_prompt: predictive mode needs a safe-harbour prompt "
            "(47 CFR 64.1200(a)(7)(i)(A))",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nabandonment_target: 0.05\n',
            "c.yaml:3: abandonment_target: 0.05 is above the legal 0.03 (per campaign over "
            "30 days, of live-answered calls (47 CFR 64.1200(a)(7)(i)))",
        ),
        (
            'name: x\ncaller_id: "555"\n',
            "c.yaml:2: caller_id: '555' has the wrong length for a US number",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nwindows:\n  default:\n'
            '    - {start: "07:30", end: "20:00"}\n',
            "c.yaml:5: windows.default[0]: 07:30-20:00 every day is wider than the US pack's "
            "08:00-21:00 every day (47 CFR 64.1200(c)(1))",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nwindows:\n  default:\n'
            '    - {start: "09:00", end: "08:00"}\n',
            "c.yaml:5: windows.default[0].end: 08:00 is not after start 09:00",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nwindows:\n  default:\n    - {start: "9am"}\n',
            "c.yaml:5: windows.default[0].start: '9am' is not a time of day (HH:MM)",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nwindows:\n  regions:\n    FL:\n'
            '      - {days: "mon-funday"}\n',
            "c.yaml:6: windows.regions.FL[0].days: 'mon-funday': days are mon..sun, "
            "e.g. 'mon-fri' or 'sat,sun'",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\ncaps:\n  lifetime: 0\n',
            "c.yaml:4: caps.lifetime: Input should be greater than or equal to 1",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\nretry:\n  answered: {after_minutes: 5, max: 1}\n',
            "c.yaml:4: retry.answered: Input should be 'busy', 'no_answer', 'machine', "
            "'failed' or 'abandoned'",
        ),
        (
            'name: x\ncaller_id: "+12125550100"\ncolour: red\n',
            "c.yaml:3: colour: Extra inputs are not permitted",
        ),
        ("name: [unclosed\n", "c.yaml:2: YAML syntax: expected ',' or ']', but got '<stream end>'"),
        ("- a list\n", "c.yaml:1: a campaign file must be a mapping (name, caller_id, ...)"),
    ],
)
def test_bad_campaign_is_one_located_line(text: str, message: str) -> None:
    with pytest.raises(CampaignError) as caught:
        load_campaign_text(text, "c.yaml")
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_unreadable_campaign_file(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="cannot read"):
        load_campaign(tmp_path / "missing.yaml")
