"""Turning the detector on for ``ringway serve``: RINGWAY_DIALER_DETECTOR and _AMD.

Bad values are a one-line error and exit code 2 (the CLI's contract), before
anything listens.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dialer_kit import config_text
from peer_kit import free_port

from ringway.app import build
from ringway.config import load_config_text
from ringway.dialer_live.amd import AmdSettings
from ringway.dialer_live.amd_tap import EnergyDetector
from ringway.dialer_live.settings import DialerSettings, DialerSettingsError, amd_from_text
from ringway.telephony import TelephonySettings

TRUNK = "192.0.2.10:5060"


def test_the_environment_chooses_the_detector_and_its_thresholds() -> None:
    plain = DialerSettings.from_env({"RINGWAY_DIALER_TRUNK": TRUNK})
    assert (plain.trunk, plain.detector, plain.amd) == (TRUNK, "none", AmdSettings())
    env = {
        "RINGWAY_DIALER_TRUNK": TRUNK,
        "RINGWAY_DIALER_DETECTOR": "energy",
        "RINGWAY_DIALER_AMD": "max_decision_s=3, initial_silence_verdict=machine,"
        "false_positive_rate=0.05",
    }
    settings = DialerSettings.from_env(env)
    assert settings.detector == "energy"
    assert settings.amd == AmdSettings(
        max_decision_s=3.0, initial_silence_verdict="machine", false_positive_rate=0.05
    )
    assert settings.amd_false_positive_rate == 0.05


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("loudness=3", "unknown 'loudness'"),
        ("max_decision_s=soon", "max_decision_s wants a number"),
        ("max_decision_s=30", "amd: max_decision_s must be in"),
        ("initial_silence_verdict=maybe", "initial_silence_verdict must be human or machine"),
    ],
)
def test_bad_thresholds_in_the_environment_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        amd_from_text(text)
    with pytest.raises(ValueError, match=problem):
        DialerSettings.from_env({"RINGWAY_DIALER_TRUNK": TRUNK, "RINGWAY_DIALER_AMD": text})


def test_build_takes_the_detector_from_the_environment(tmp_path: Path) -> None:
    config = load_config_text(config_text(tmp_path), "dialer-test.yaml")
    env = {"RINGWAY_DIALER_TRUNK": TRUNK, "RINGWAY_DIALER_DETECTOR": "energy"}
    bundle = build(config, env, sip=TelephonySettings(host="127.0.0.1", port=free_port()))
    assert bundle.dialer is not None
    assert isinstance(bundle.dialer.detector, EnergyDetector)
    assert bundle.dialer.ledgers["UK"].pack.amd_false_positive_rate == 0.1
    with pytest.raises(DialerSettingsError):
        DialerSettings.from_env({"RINGWAY_DIALER_DETECTOR": "energy"})  # no trunk


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("RINGWAY_DIALER_AMD", "beep_min_s=0.01", "error: amd: beep_min_s must be >= 0.06"),
        ("RINGWAY_DIALER_DETECTOR", "magic", "error: unknown machine detector 'magic'"),
    ],
)
def test_serve_refuses_bad_detector_settings_in_one_line(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    config = tmp_path / "ringway.yaml"
    config.write_text(config_text(tmp_path))
    env = {"RINGWAY_DIALER_TRUNK": TRUNK, variable: value, "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(config)]
    command += ["--http-port", str(free_port()), "--sip-port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(problem), done.stderr[-2000:]
