"""``queues[].hold``: what a voice queue's callers hear while they wait; errors located."""

from __future__ import annotations

import pytest

from ringway.config import ConfigError, load_config_text

BASE = """
queues:
  - name: support
{extra}
  - name: sales
"""


def test_music_and_announcements_are_on_by_default() -> None:
    config = load_config_text(BASE.format(extra=""))
    hold = config.hold_for("support")
    assert (hold.music, hold.announcements) == (True, True)
    assert config.hold_for("no-such-queue").music is True
    assert config.hold_for(None).announcements is True


def test_a_queue_can_wait_in_silence() -> None:
    extra = "    hold: {music: false, announcements: false}"
    config = load_config_text(BASE.format(extra=extra))
    hold = config.hold_for("support")
    assert (hold.music, hold.announcements) == (False, False)
    assert config.hold_for("sales").music is True  # only the queue that says so


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("    hold: {music: quietly}", "4: queues[0].hold.music: Input should be a valid boolean"),
        ("    hold: {musik: false}", "4: queues[0].hold.musik: Extra inputs are not permitted"),
        ("    hold: silent", "4: queues[0].hold: Input should be a valid dictionary"),
        (
            "    channel: chat\n    hold: {music: false}",
            "5: queues[0].hold: only a voice queue has callers on hold, not chat",
        ),
    ],
)
def test_bad_hold_settings_name_the_key_and_line(extra: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(BASE.format(extra=extra), "centre.yaml")
    assert str(caught.value).startswith(f"centre.yaml:{where}")
