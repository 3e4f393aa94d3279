"""A voice load-test rig: the demo service with N load-test agents, and a scenario.

    python -m simulation.loadtest.voice_rig DIR --agents 150 --rate 30 [--speed 10]

writes into DIR:

* ``service.yaml``: the demo configuration (its queues, IVR queues, routing) with
  its agents replaced by ``lt000``.. each with an extension ``3000``.., billing,
  support and English skills and the password of ``$LT_PASSWORD`` (hashed);
  data in ``DIR/var``, customers in memory, no SMTP intake;
* ``sip.env``: ``export RINGWAY_SIP_PASSWORD_<ext>=...`` lines for the service
  (its phones' digest passwords come from the environment, `ringway.telephony`);
* ``load.yaml``: ``--rate`` calls per wall second at ``--speed``, half to
  billing and half to support (keys 2 and 3 of the demo IVR), 20 s talk,
  2-5 s wrap-up, 60 s mean patience, 1-3 s answer delay, every agent staffed.

Then (docs/loadtest.md, "Measured"):

    . DIR/sip.env; ringway serve --config DIR/service.yaml --sip-port 5062 &
    ringway loadtest DIR/load.yaml --target http://127.0.0.1:8080 --sip 127.0.0.1:5062 \\
        --password-env LT_PASSWORD --duration 30 --speed 10
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from ringway.auth import MIN_ITERATIONS, hash_password
from ringway.config import demo_config_path

HANDLING = """  - queue: {queue}
    talk_time: {{dist: exponential, mean: 20}}
    wrap_up: {{dist: uniform, low: 2, high: 5}}
    patience: {{dist: exponential, mean: 60}}
"""


def service_yaml(directory: Path, agents: int, password: str) -> str:
    demo = demo_config_path().read_text(encoding="utf-8")
    head, _, _ = demo.partition("\nagents:\n")
    head = head.replace("  data_dir: var\n", f'  data_dir: "{directory / "var"}"\n')
    head = head.replace("  smtp_port: 2525", '  customer_store: "memory://"\n  smtp_port: null')
    digest = hash_password(password, iterations=MIN_ITERATIONS)
    skills = "{billing: 5, support: 5, english: 5}"
    rows = [
        f'  - {{id: lt{i:03d}, extension: "{3000 + i}", skills: {skills}, '
        f'password_hash: "{digest}"}}'
        for i in range(agents)
    ]
    return f"{head}\nagents:\n" + "\n".join(rows) + "\n"


def load_yaml(agents: int, rate: float, speed: float) -> str:
    per_hour = rate / speed * 3600 / 2  # scenario rates are per hour, split over two queues
    staff = ", ".join(f"lt{i:03d}" for i in range(agents))
    return (
        "name: loadtest-voice-rig\nconfig: service.yaml\ninterval: 15m\nintervals: 1\nseed: 3\n"
        f"arrivals:\n  - {{queue: billing, rate: {per_hour:g}}}\n"
        f"  - {{queue: support, rate: {per_hour:g}}}\n"
        "handling:\n" + HANDLING.format(queue="billing") + HANDLING.format(queue="support")
        + "answer_delay: {dist: uniform, low: 1, high: 3}\n"
        f"staff:\n  - agents: [{staff}]\n"
    )  # fmt: skip


def main(
    directory: Annotated[Path, typer.Argument(help="Where to write the rig")],
    agents: Annotated[int, typer.Option(min=1, max=999)] = 150,
    rate: Annotated[float, typer.Option(min=0.1, help="Calls per wall second")] = 30.0,
    speed: Annotated[float, typer.Option(min=0.1)] = 10.0,
) -> None:
    password = os.environ.get("LT_PASSWORD")
    if not password:
        typer.echo("error: set LT_PASSWORD (the agents' desktop and SIP password)", err=True)
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "service.yaml").write_text(service_yaml(directory.resolve(), agents, password))
    (directory / "load.yaml").write_text(load_yaml(agents, rate, speed))
    quoted = shlex.quote(password)
    lines = [f"export RINGWAY_SIP_PASSWORD_{3000 + i}={quoted}" for i in range(agents)]
    env = directory / "sip.env"
    env.write_text("\n".join(lines) + "\n")
    env.chmod(0o600)
    sys.stdout.write(f"{directory}: service.yaml, load.yaml, sip.env ({agents} agents)\n")


if __name__ == "__main__":
    typer.run(main)
