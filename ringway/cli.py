"""The `ringway` command line.

Other tools script against these names and options, so they are a contract:
``serve``, ``demo``, ``config check``, ``report intervals``, ``hash-password``.
Every command that prints results takes ``--json`` and then writes one JSON
document to stdout and nothing else there. Bad input is one line on stderr and
exit code 2.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dialer.cli import dialer_app
from ringway.cli_report import report_app
from ringway.config import ConfigError, RingwayConfig, demo_config_path, load_config
from simulation.cli import erlang_app, simulate_command, staff_command
from simulation.loadtest.cli import loadtest_command

DEFAULT_SIP_PORT = 5060

app = typer.Typer(
    help="Ringway: contact-centre routing engine (ACD, IVR, dialer, desktop, simulator).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")


app.add_typer(report_app, name="report")
app.add_typer(erlang_app, name="erlang")
app.add_typer(dialer_app, name="dialer")
app.command("simulate")(simulate_command)
app.command("staff")(staff_command)
app.command("loadtest")(loadtest_command)


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2: the contract for every user error."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=None, default=str) + "\n")


def _load(path: Path | None) -> RingwayConfig:
    try:
        return load_config(path or demo_config_path())
    except ConfigError as exc:
        fail(str(exc))


@config_app.command("check")
def config_check(
    file: Annotated[Path, typer.Argument(help="YAML configuration to validate")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document")] = False,
) -> None:
    """Validate FILE with the same rules `serve` applies; exit 2 on the first problem."""
    try:
        config = load_config(file)
    except ConfigError as exc:
        if as_json:
            emit_json(
                {
                    "ok": False,
                    "error": exc.problem,
                    "file": exc.source,
                    "line": exc.line,
                    "key": exc.key,
                }
            )
            raise typer.Exit(2) from None
        fail(str(exc))
    summary: dict[str, Any] = {
        "ok": True,
        "file": str(file),
        "queues": [q.name for q in config.queues],
        "agents": [a.id for a in config.agents],
        "skills": sorted(config.skills),
        "users": {u.id: u.role for u in config.users},
    }
    if as_json:
        emit_json(summary)
    else:
        typer.echo(
            f"{file}: ok — {len(summary['queues'])} queues, {len(summary['agents'])} agents, "
            f"{len(summary['skills'])} skills"
        )


@app.command()
def serve(
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML config (default: demo)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    http_port: Annotated[
        int | None, typer.Option("--http-port", help="HTTP/websocket port")
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option("--smtp-port", help="SMTP intake port for e-mail contacts (default: off)"),
    ] = None,
    sip_port: Annotated[
        int | None,
        typer.Option(
            "--sip-port",
            min=0,
            max=65535,
            help=f"SIP port, UDP and TCP (default {DEFAULT_SIP_PORT}; 0: any free port)",
        ),
    ] = None,
    sip: Annotated[
        bool, typer.Option("--sip/--no-sip", help="Answer calls over SIP (IVR, agent phones)")
    ] = True,
    ivr: Annotated[
        Path | None, typer.Option("--ivr", help="IVR flow file for SIP calls (default: demo)")
    ] = None,
) -> None:
    """Run the service: REST + OpenAPI, websockets, web pages, /metrics, SMTP intake, SIP."""
    import uvicorn

    from ivr.flows import FlowError
    from ringway.app import build
    from ringway.runtime import gc_thresholds, tune_gc
    from ringway.telephony import TelephonySettings

    try:
        thresholds = gc_thresholds(os.environ)
    except ValueError as exc:
        fail(str(exc))
    cfg = _load(config)
    overrides = {"host": host, "http_port": http_port, "smtp_port": smtp_port}
    service = cfg.service.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    cfg = dataclasses.replace(cfg, service=service)
    # One node answers calls on the default port; cluster nodes only when told which.
    explicit = sip_port is not None
    wanted = sip and (explicit or cfg.service.redis_url is None)
    telephony = None
    if wanted:
        port = DEFAULT_SIP_PORT if sip_port is None else sip_port
        port = port or _any_free_port(service.host)  # 0: pick one now, so the banner says it
        problem = _port_problem(service.host, port)
        if problem is not None and explicit:
            fail(f"--sip-port {port}: {problem}")
        if problem is None:
            telephony = TelephonySettings(host=service.host, port=port, flows=ivr)
        else:  # the default port is busy (another PBX, another node): serve without SIP
            typer.echo(f"warning: SIP not started: {problem}", err=True)
    try:
        bundle = build(cfg, sip=telephony, sip_required=explicit)
    except (ConfigError, ValueError, FlowError) as exc:
        fail(str(exc))
    _print_banner(cfg, bundle.admin_token, bundle.generated_passwords)
    if telephony is not None:
        _print_sip_banner(telephony.host, telephony.port, bundle.sip_passwords)
    tune_gc(thresholds)
    uvicorn.run(
        bundle.app,
        host=service.host,
        port=service.http_port,
        log_level="info",
        ws_per_message_deflate=False,
    )


def _print_banner(cfg: RingwayConfig, admin_token: str, passwords: dict[str, str]) -> None:
    base = f"http://{cfg.service.host}:{cfg.service.http_port}"
    lines = [
        f"Ringway serving {cfg.source} on {base}",
        f"  API docs     {base}/docs",
        f"  agent desk   {base}/ui/agent.html",
        f"  wallboard    {base}/ui/wallboard.html",
        f"  chat widget  {base}/ui/chat.html",
        f"  metrics      {base}/metrics",
        f"  admin token  {admin_token}",
    ]
    if cfg.service.smtp_port is not None:
        lines.append(f"  smtp intake  {cfg.service.host}:{cfg.service.smtp_port}")
    roles = {u.id: u.role for u in cfg.users}
    for user, password in sorted(passwords.items()):
        lines.append(f"  {roles.get(user, '?'):<10} {user:<8} password {password}")
    typer.echo("\n".join(lines), err=True)


def _any_free_port(host: str) -> int:
    import socket

    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
        if _port_problem(host, port) is None:
            return port
    fail(f"no free SIP port on {host}")


def _port_problem(host: str, port: int) -> str | None:
    """Why SIP cannot listen on host:port (UDP and TCP), or None."""
    import socket

    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as probe:
            if kind == socket.SOCK_STREAM:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                return f"{host}:{port} is not available ({exc.strerror})"
    return None


def _print_sip_banner(host: str, port: int, passwords: dict[str, str]) -> None:
    lines = [f"  sip          {host}:{port} UDP+TCP (agent phones register their extension)"]
    for extension, password in sorted(passwords.items()):
        lines.append(f"  sip phone  {extension:<8} password {password}")
    typer.echo("\n".join(lines), err=True)


@app.command("hash-password")
def hash_password_cmd(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Print a password hash for a user's `password_hash` in the config."""
    from ringway.auth import hash_password

    hashed = hash_password(password)
    if as_json:
        emit_json({"password_hash": hashed})
    else:
        typer.echo(hashed)


@app.command()
def demo(
    config: Annotated[Path | None, typer.Option("--config")] = None,
    contacts: Annotated[int, typer.Option(min=1, max=100_000)] = 20,
    seed: Annotated[int, typer.Option()] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Route a scripted burst of contacts through the real router in virtual time."""
    from ringway.demo import run_demo

    result = run_demo(_load(config), contacts=contacts, seed=seed)
    if as_json:
        emit_json(result)
        return
    for line in result["log"]:
        typer.echo(line)
    typer.echo(json.dumps(result["summary"], indent=2))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
