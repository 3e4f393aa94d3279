"""`ringway serve --sip-port N` as a process: the SIP edge starts with the rest and the
demo answers a call to any request-URI user with the demo IVR."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from peer_kit import free_port, needs_sipp
from telephony_kit import caller_xml, demo_config_text, start_sipp

from ivr.sip.message import Response, parse_message
from ivr.transport import run

OPTIONS = (
    "OPTIONS sip:ringway@127.0.0.1:{port} SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKserve1;rport\r\n"
    "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:ringway@127.0.0.1>\r\n"
    "Call-ID: serve-probe\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def options(port: int, deadline: float) -> Response:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.5)
        me = sock.getsockname()[1]
        while time.monotonic() < deadline:
            sock.sendto(OPTIONS.format(port=port, me=me).encode(), ("127.0.0.1", port))
            try:
                data = sock.recv(65535)
            except TimeoutError:
                continue
            message = parse_message(data)
            assert isinstance(message, Response)
            return message
    raise AssertionError("no answer to OPTIONS: the SIP edge did not start")


def serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    config = tmp_path / "centre.yaml"
    config.write_text(demo_config_text(tmp_path, 15))
    command = [sys.executable, "-m", "ringway.cli", "serve", "--config", str(config), *args]
    env = {**os.environ, "RINGWAY_SIP_PASSWORD_1001": "alice-phone"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@needs_sipp
def test_serve_starts_the_sip_edge_and_answers_any_user(tmp_path: Path) -> None:
    sip_port, http_port = free_port(), free_port()
    proc = serve(tmp_path, "--http-port", str(http_port), "--sip-port", str(sip_port))
    try:
        ok = options(sip_port, time.monotonic() + 30)
        assert ok.status == 200 and "INFO" in (ok.headers.get("allow") or "")

        async def call() -> int:
            sipp = await start_sipp(
                tmp_path,
                "caller",
                caller_xml(digit=None, hold_ms=500),
                f"127.0.0.1:{sip_port}",
                "-s",
                "whatever-user",
                port=free_port(),
                timeout=20,
            )
            return (await sipp.result()).code

        assert run(call()) == 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    assert f"sip          127.0.0.1:{sip_port} UDP+TCP" in err
    assert "alice-phone" not in err and "sip phone  1001" not in err  # from the environment
    assert "sip phone  1002     password " in err  # generated at start, printed once


def test_serve_refuses_a_sip_port_in_use(tmp_path: Path) -> None:
    """Bad input: exit code 2 and one line, before anything starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        proc = serve(tmp_path, "--http-port", str(free_port()), "--sip-port", str(port))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        f"error: --sip-port {port}: 127.0.0.1:{port} is not available (Address already in use)"
    ]


def test_serve_refuses_a_broken_ivr_file(tmp_path: Path) -> None:
    flows = tmp_path / "flows.yaml"
    flows.write_text('entries: {"*": main}\nflows:\n  main:\n    start: x\n    nodes: {}\n')
    proc = serve(tmp_path, "--http-port", str(free_port()), "--sip-port", "0", "--ivr", str(flows))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {flows}:5: flows.main.nodes: ")
