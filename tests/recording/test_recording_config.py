"""``queues[].recording`` and the storage settings: defaults off, errors located."""

from __future__ import annotations

import pytest

from ringway.config import ConfigError, load_config_text

BASE = """
service: {{data_dir: /srv/ringway}}
queues:
  - name: support
{extra}
  - name: sales
"""


def test_recording_is_off_by_default_and_stored_next_to_the_data() -> None:
    config = load_config_text(BASE.format(extra=""))
    policy = config.recording_for("support")
    assert (policy.enabled, policy.announcement, policy.format) == (False, None, "stereo")
    assert config.recording_for("no-such-queue").enabled is False
    assert config.recording_for(None).enabled is False
    assert config.path_setting(config.service.recordings_dir) == "/srv/ringway/recordings"
    assert config.path_setting(config.service.call_records) == "/srv/ringway/calls.sqlite3"


def test_a_queue_turns_recording_on_with_an_announcement() -> None:
    extra = "    recording: {enabled: true, announcement: call_recorded, format: mono}"
    config = load_config_text(BASE.format(extra=extra))
    policy = config.recording_for("support")
    assert (policy.enabled, policy.announcement, policy.format) == (True, "call_recorded", "mono")
    assert config.recording_for("sales").enabled is False


@pytest.mark.parametrize(
    ("recording", "problem"),
    [
        ("{enabled: true, format: surround}", "queues[0].recording.format"),
        ("{enabled: yes-please}", "queues[0].recording.enabled"),
        ("{announcement: ../../etc/passwd}", "queues[0].recording.announcement"),
        ("{enabled: true, volume: 11}", "queues[0].recording.volume"),
    ],
)
def test_bad_recording_settings_name_the_key_and_line(recording: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(BASE.format(extra=f"    recording: {recording}"), "centre.yaml")
    assert str(caught.value).startswith(f"centre.yaml:5: {problem}:")
