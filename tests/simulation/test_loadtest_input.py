"""`ringway loadtest` bad input: one ``error:`` line on stderr, exit 2, nothing on stdout.

All of these fail before any traffic is made (most before any network)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringway.cli import app

runner = CliRunner()

SCENARIO = """
name: lt-input
config:
  routing: {{entry_points: {{"help@ringway.test": email}}}}
  skills: [support]
  queues:
    - {{name: support, channel: voice, requires: "support>=1"}}
    - {{name: phone, channel: voice, requires: "support>=1"}}
    - {{name: email, channel: email, requires: "support>=1"}}
    - {{name: backlog, channel: task, requires: "support>=1"}}
  agents:
    - {{id: a1, extension: "1001", skills: {{support: 5}}}}
intervals: 1
arrivals:
{arrivals}
handling:
  - {{queue: "*", talk_time: {{dist: exponential, mean: 60}}}}
{extra}
"""
CHANNELS = ["--smtp", "h:1", "--sip", "h:1"]
BOTH = "  - {queue: support, rate: 60}\n  - {queue: email, rate: 60}"


def scenario(tmp_path: Path, arrivals: str = BOTH, extra: str = "") -> str:
    path = tmp_path / "lt.yaml"
    path.write_text(SCENARIO.format(arrivals=arrivals, extra=extra))
    return str(path)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_error_line(args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["loadtest", *args], env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_unknown_scenario_key_names_the_key(tmp_path: Path) -> None:
    path = scenario(tmp_path, extra="arival_rate: 5")
    line = one_error_line([path, "--target", "http://127.0.0.1:1", "--password-env", "X"])
    assert "arival_rate" in line and "lt.yaml:" in line


def test_missing_scenario_file(tmp_path: Path) -> None:
    line = one_error_line([str(tmp_path / "nope.yaml"), "--target", "http://127.0.0.1:1"])
    assert "nope.yaml" in line and "cannot read" in line


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--target", "127.0.0.1:8080"], "--target must be an http(s)://host:port URL"),
        (["--target", "http://127.0.0.1:1", "--speed", "0"], "--speed must be a positive"),
        (["--target", "http://127.0.0.1:1", "--duration", "-3"], "--duration must be > 0"),
        (["--target", "http://127.0.0.1:1", "--smtp", "nowhere"], "--smtp must be HOST:PORT"),
        (["--target", "http://127.0.0.1:1", "--sip", "h"], "--sip must be HOST:PORT"),
        (["--target", "http://127.0.0.1:1", *CHANNELS], "give agents' credentials"),
        (["--target", "http://127.0.0.1:1", "--password-env", "X"], "give --smtp HOST:PORT"),
        (["--target", "http://127.0.0.1:1", "--smtp", "h:1"], "give --sip HOST:PORT"),
    ],
)
def test_bad_options(tmp_path: Path, options: list[str], expected: str) -> None:
    assert expected in one_error_line([scenario(tmp_path), *options])


def test_password_env_must_be_set(tmp_path: Path) -> None:
    args = [scenario(tmp_path), "--target", "http://127.0.0.1:1", *CHANNELS]
    line = one_error_line([*args, "--password-env", "RINGWAY_LT_UNSET_PW"])
    assert "RINGWAY_LT_UNSET_PW is not set" in line


def test_credentials_file_must_map_agents(tmp_path: Path) -> None:
    creds = tmp_path / "creds.yaml"
    creds.write_text("- just\n- a list\n")
    args = [scenario(tmp_path), "--target", "http://127.0.0.1:1", *CHANNELS]
    line = one_error_line([*args, "--credentials", str(creds)])
    assert "must map agent ids to passwords" in line


def test_unreachable_target(tmp_path: Path) -> None:
    port = closed_port()
    args = [scenario(tmp_path), "--target", f"http://127.0.0.1:{port}", *CHANNELS]
    line = one_error_line([*args, "--password-env", "LT_PW"], env={"LT_PW": "x"})
    assert line.startswith(f"error: cannot reach the target http://127.0.0.1:{port}")


def test_only_channels_without_a_driver_cannot_be_played(tmp_path: Path) -> None:
    path = scenario(tmp_path, arrivals="  - {queue: backlog, rate: 60}")
    line = one_error_line([path, "--target", "http://127.0.0.1:1", "--password-env", "X"])
    assert "no queue of the scenario can be played" in line and "backlog" in line


def test_a_voice_queue_the_ivr_cannot_reach(tmp_path: Path) -> None:
    path = scenario(tmp_path, arrivals="  - {queue: phone, rate: 60}")
    args = [path, "--target", "http://127.0.0.1:1", "--sip", "h:1", "--password-env", "X"]
    line = one_error_line(args)
    assert line.startswith("error: voice queue phone: the IVR") and "no key path" in line


def test_voice_needs_an_agent_with_a_phone(tmp_path: Path) -> None:
    path = scenario(tmp_path, arrivals="  - {queue: support, rate: 60}")
    Path(path).write_text(Path(path).read_text().replace('extension: "1001", ', ""))
    args = [path, "--target", "http://127.0.0.1:1", "--sip", "h:1", "--password-env", "X"]
    line = one_error_line(args, env={"X": "pw"})
    assert line == "error: the scenario has voice queues but no agent has an extension"
