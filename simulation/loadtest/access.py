"""Reaching the target: is it up, and the simulated agents' bearer tokens.

Credentials are never in code or in the scenario: ``--credentials FILE`` (a
YAML/JSON mapping ``agent id: password``) or ``--password-env NAME`` (one
password, for targets whose load-test agents share ``password_env: NAME``).
Each agent logs in with ``POST /api/v1/auth/login``, as the desktop page does.

An agent's phone registers its extension with a SIP digest password from the same
place: the one ``--password-env`` password (the target's
``RINGWAY_SIP_PASSWORD_<extension>`` set to it), or in the file either the
agent's one password or ``{password: ..., sip_password: ...}``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import yaml

from simulation.loadtest.errors import LoadTestError

API = "/api/v1"
Passwords = Callable[[str], str]


def passwords(
    file: Path | None,
    password_env: str | None,
    env: Mapping[str, str] = os.environ,
    field: str = "password",
) -> Passwords:
    """Where each agent's password (``field``: ``password`` for the desktop,
    ``sip_password`` for its phone) comes from; exactly one source must be given."""
    if (file is None) == (password_env is None):
        raise LoadTestError("give agents' credentials: --credentials FILE or --password-env NAME")
    if password_env is not None:
        shared = env.get(password_env)
        if not shared:
            raise LoadTestError(f"--password-env: environment variable {password_env} is not set")
        return lambda agent_id: shared
    assert file is not None
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadTestError(f"--credentials {file}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise LoadTestError(f"--credentials {file}: not YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LoadTestError(f"--credentials {file}: must map agent ids to passwords")
    table = {str(k): v for k, v in data.items()}

    def lookup(agent_id: str) -> str:
        entry = table.get(agent_id)
        if isinstance(entry, dict):  # {password: ..., sip_password: ...}
            entry = entry.get(field, entry.get("password"))
        if entry is None:
            raise LoadTestError(f"--credentials {file}: no {field} for agent {agent_id}")
        return str(entry)

    return lookup


async def check_target(client: httpx.AsyncClient, url: str) -> None:
    try:
        response = await client.get(f"{url}{API}/healthz", timeout=5.0)
    except httpx.HTTPError as exc:
        raise LoadTestError(f"cannot reach the target {url}: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        raise LoadTestError(
            f"the target {url} is not a healthy Ringway (healthz {response.status_code})"
        )


async def login_all(
    client: httpx.AsyncClient, url: str, agent_ids: tuple[str, ...], password: Passwords
) -> dict[str, str]:
    """A bearer token per agent (logins run side by side: the server stretches keys)."""
    pairs = [(agent_id, password(agent_id)) for agent_id in agent_ids]
    tokens = await asyncio.gather(*(_login(client, url, a, p) for a, p in pairs))
    return dict(zip(agent_ids, tokens, strict=True))


async def _login(client: httpx.AsyncClient, url: str, agent_id: str, password: str) -> str:
    try:
        response = await client.post(
            f"{url}{API}/auth/login", json={"user": agent_id, "password": password}, timeout=60.0
        )
    except httpx.HTTPError as exc:
        raise LoadTestError(f"login of agent {agent_id} failed: {exc}") from None
    if response.status_code != 200:
        raise LoadTestError(f"login of agent {agent_id} refused ({response.status_code})")
    body = response.json()
    if body.get("role") != "agent":
        raise LoadTestError(f"{agent_id} is a {body.get('role')} on the target, not an agent")
    return str(body["token"])
