"""Configuration loading: the demo loads; each kind of mistake names file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringway.config import ConfigError, demo_config_path, load_config, load_config_text
from router.model import Channel
from router.skills import AnyOf, Requirement

GOOD = """\
skills: [sales, english, support]
queues:
  - name: sales
    channel: voice
    requires: "sales>=3 & english"
    relaxation:
      - {after_s: 30, or: "support"}
      - {after_s: 60, and: "english>=5"}
      - {after_s: 90, replace: "*"}
    overflow: general
  - name: general
    channel: voice
agents:
  - {id: ann, skills: {sales: 5, english: 7}, capacity: {voice: 1, chat: 2}}
users:
  - {id: sue, role: supervisor}
"""


def test_demo_config_loads_with_every_channel_queue() -> None:
    config = load_config(demo_config_path())
    channels = {q.channel for q in config.queues}
    assert {Channel.VOICE, Channel.CHAT, Channel.EMAIL, Channel.TASK} <= channels
    assert {u.role for u in config.users} == {"agent", "supervisor", "admin"}


def test_relaxation_modes_build_full_expressions() -> None:
    config = load_config_text(GOOD)
    sales = config.queues[0]
    widened, tightened, anything = (step.requirement for step in sales.relaxation)
    assert isinstance(widened, AnyOf)
    assert str(widened) == "sales>=3 & english>=1 | support>=1"
    assert str(tightened) == "(sales>=3 & english>=1 | support>=1) & english>=5"
    assert str(anything) == "*"
    assert [s.mode for s in sales.relaxation] == ["or", "and", "replace"]


def test_seed_tier_defaults_apply_when_queue_is_silent() -> None:
    config = load_config_text(GOOD)
    sales = config.queues[0]
    assert sales.sla_by_tier["gold"].target == 0.9
    assert sales.sla_by_tier["gold"].threshold_s == 20
    assert sales.sla_by_tier["silver"].threshold_s == 30
    assert sales.tier_priority["gold"] > sales.tier_priority["silver"] > 0


def test_email_queue_gets_hour_level_tier_slas() -> None:
    config = load_config_text("queues:\n  - {name: mail, channel: email}\n")
    mail = config.queues[0]
    assert {t: s.threshold_s for t, s in mail.sla_by_tier.items()} == {
        "gold": 3600,
        "silver": 4 * 3600,
        "bronze": 24 * 3600,
    }


def test_agent_capacity_short_form() -> None:
    ann = load_config_text(GOOD).agents[0].to_agent()
    assert ann.capacity.maximum[Channel.CHAT] == 2
    assert ann.skills == {"sales": 5, "english": 7}


def test_queue_for_prefers_entry_point_then_channel_default() -> None:
    config = load_config(demo_config_path())
    assert config.queue_for("voice", "+18005550101") == "billing"
    assert config.queue_for("voice", "+19999999999") == "support"
    assert config.queue_for("chat", None) == "chat"


BAD_CASES = [
    (
        "unknown skill",
        GOOD.replace('"sales>=3 & english"', '"salez>=3"'),
        5,
        "queues[0].requires",
        "unknown skill salez",
    ),
    (
        "bad level",
        GOOD.replace("sales>=3 &", "sales>=11 &"),
        5,
        "queues[0].requires",
        "outside 1-10",
    ),
    (
        "overflow target",
        GOOD.replace("overflow: general", "overflow: nowhere"),
        10,
        "queues[0].overflow",
        "'nowhere' is not a queue",
    ),
    (
        "strategy",
        GOOD.replace(
            "channel: voice\n    requires", "channel: voice\n    strategy: fastest\n    requires"
        ),
        5,
        "queues[0].strategy",
        "unknown strategy 'fastest'",
    ),
    (
        "unknown key",
        GOOD.replace("overflow: general", "overflw: general"),
        10,
        "queues[0].overflw",
        "Extra inputs are not permitted",
    ),
    (
        "wrong type",
        GOOD.replace("after_s: 60", "after_s: soon"),
        8,
        "queues[0].relaxation[1].after_s",
        "valid number",
    ),
    (
        "two modes",
        GOOD.replace('{after_s: 90, replace: "*"}', '{after_s: 90, replace: "*", or: x}'),
        9,
        "queues[0].relaxation[2]",
        "exactly one of",
    ),
    (
        "steps order",
        GOOD.replace("after_s: 90", "after_s: 45"),
        9,
        "queues[0].relaxation[2].after_s",
        "increasing",
    ),
    (
        "proficiency",
        GOOD.replace("sales: 5,", "sales: 12,"),
        14,
        "agents[0].skills.sales",
        "outside 1-10",
    ),
    (
        "capacity channel",
        GOOD.replace("chat: 2", "fax: 2"),
        14,
        "agents[0].capacity",
        "unknown channel 'fax'",
    ),
    (
        "role",
        GOOD.replace("role: supervisor", "role: boss"),
        16,
        "users[0].role",
        "Input should be",
    ),
    (
        "duplicate queue",
        GOOD.replace("name: general", "name: sales").replace(
            "overflow: general", "overflow: sales"
        ),
        11,
        "queues[1].name",
        "defined twice",
    ),
]


@pytest.mark.parametrize(
    ("label", "text", "line", "key", "problem"), BAD_CASES, ids=[c[0] for c in BAD_CASES]
)
def test_bad_config_names_line_key_and_problem(
    label: str, text: str, line: int, key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "centre.yaml")
    error = caught.value
    assert (error.source, error.line, error.key) == ("centre.yaml", line, key), str(error)
    assert problem in error.problem
    assert str(error).startswith(f"centre.yaml:{line}: {key}: ")


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text("queues:\n  - name: [unclosed\n", "x.yaml")
    assert caught.value.line is not None and "YAML syntax" in caught.value.problem


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_requirement_leaf_levels_round_trip() -> None:
    config = load_config_text("skills: [a]\nqueues:\n  - {name: q, requires: 'a = 4'}\n")
    assert config.queues[0].requirement == Requirement("a", "==", 4)


def test_queue_hours_refer_to_named_calendars() -> None:
    config = load_config(demo_config_path())
    support = next(q for q in config.queues if q.name == "support")
    assert set(support.hours) == {"bronze"}
    assert support.hours["bronze"].describe() == "mon,tue,wed,thu,fri 08:00-18:00 Europe/London"


def test_unknown_calendar_is_located() -> None:
    text = "queues:\n  - name: q\n    hours: {bronze: night}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "c.yaml")
    assert str(caught.value) == (
        "c.yaml:3: queues[0].hours.bronze: unknown calendar 'night' (routing.calendars: office)"
    )


def test_bad_inline_hours_are_located() -> None:
    text = "queues:\n  - name: q\n    hours:\n      '*': {timezone: Nowhere/Land}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, "c.yaml")
    assert caught.value.line == 4 and "unknown time zone 'Nowhere/Land'" in caught.value.problem
