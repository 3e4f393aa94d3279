"""docker/compose.yaml, checked without a Docker engine (none runs here).

The file is read as YAML and its structure asserted: the services, what waits
for what to be healthy, published ports, mounts that exist, secrets that must
be given. Prometheus must scrape exactly the Ringway services; each node's
config, rendered the way its container renders it, must load with Ringway's own
loader. The Docker client validates the file too where it has a compose plugin.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import yaml

from ringway.config import load_config_text
from ringway.schema import ServiceDoc

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
NODES = ("ringway-a", "ringway-b")
SERVICES = {*NODES, "redis", "postgres", "prometheus", "grafana"}
# The Redis scale-out's settings, used by the cluster config before the schema knows them.
PENDING_SERVICE_KEYS = {"redis_url", "node_id"}
SECRETS = {
    "POSTGRES_PASSWORD",
    "RINGWAY_TOKEN_SECRET",
    "RINGWAY_ADMIN_TOKEN",
    "RINGWAY_SUPERVISOR_PASSWORD",
    "RINGWAY_AGENT_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"][name]
    return found


def entrypoint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ringway_entrypoint", DOCKER / "entrypoint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_services_and_named_volumes() -> None:
    doc = compose()
    assert set(doc["services"]) == SERVICES
    declared = set(doc["volumes"])
    used = {
        mount.split(":", 1)[0]
        for svc in doc["services"].values()
        for mount in svc.get("volumes", [])
        if not mount.startswith(".")
    }
    assert used == declared == {"redis-data", "postgres-data", "prometheus-data", "grafana-data"}


def test_bind_mounts_exist_and_are_read_only() -> None:
    for name, svc in compose()["services"].items():
        for mount in svc.get("volumes", []):
            if mount.startswith("."):
                source, _target, mode = mount.split(":")
                assert (DOCKER / source).exists(), f"{name}: {source} is missing"
                assert mode == "ro", f"{name}: {mount} should be read-only"


def test_nodes_are_built_here_and_wait_for_healthy_redis_and_postgres() -> None:
    for node in NODES:
        svc = service(node)
        assert svc["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
        assert (DOCKER / ".." / svc["build"]["dockerfile"]).is_file()
        assert svc["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
        }
        assert svc["hostname"] == node and svc["init"] is True
    assert service("grafana")["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    assert set(service("prometheus")["depends_on"]) == set(NODES)


def test_every_service_has_a_healthcheck() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for name, svc in compose()["services"].items():
        if name in NODES:  # theirs is the image's, not repeated here
            assert "healthcheck" not in svc and "HEALTHCHECK" in dockerfile
            continue
        check = svc["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and check["interval"], name
        assert check["retries"] >= 3, name


def test_ports_are_published_on_loopback_only_and_match_what_is_served() -> None:
    published = {}
    for name, svc in compose()["services"].items():
        for port in svc.get("ports", []):
            host_ip, host_port, container_port = port.split(":")
            assert host_ip == "127.0.0.1", f"{name} publishes {port} on every interface"
            published[name] = (int(host_port), int(container_port))
    assert published == {
        "ringway-a": (8081, 8080),
        "ringway-b": (8082, 8080),
        "prometheus": (9090, 9090),
        "grafana": (3000, 3000),
    }
    for node in NODES:
        command = service(node)["command"]
        assert command[:2] == ["ringway", "serve"]
        assert command[command.index("--http-port") + 1] == "8080"
        assert command[command.index("--host") + 1] == "0.0.0.0"


def test_secrets_are_required_never_defaulted() -> None:
    text = (DOCKER / "compose.yaml").read_text()
    references = re.findall(r"\$\{([A-Z_]+)(:[?-])?", text)
    assert {name for name, _ in references} == SECRETS
    assert all(kind == ":?" for _, kind in references), "a secret with a default"
    example = (DOCKER / ".env.example").read_text()
    assert set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE)) == SECRETS
    assert ".env" in (DOCKER / ".gitignore").read_text().split()


def test_prometheus_scrapes_exactly_the_ringway_services() -> None:
    config = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    ringway = jobs["ringway"]
    targets = [t for group in ringway["static_configs"] for t in group["targets"]]
    assert sorted(targets) == [f"{node}:8080" for node in NODES]
    assert ringway["metrics_path"] == "/metrics"
    relabel = ringway["relabel_configs"][0]
    assert relabel["target_label"] == "node"
    for target in targets:  # the relabel rule turns each target into its service name
        assert re.fullmatch(relabel["regex"], target)
        assert (
            re.sub(relabel["regex"], relabel["replacement"].replace("$1", r"\1"), target) in NODES
        )
    mounts = service("prometheus")["volumes"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounts


def node_config(node: str) -> dict[str, Any]:
    """The node's config as its container renders it (docker/entrypoint.py), parsed."""
    env = service(node)["environment"]
    assert env["RINGWAY_CONFIG"] == service(node)["command"][3] == "/tmp/ringway.yaml"
    template_path = env["RINGWAY_CONFIG_TEMPLATE"]
    assert f"./ringway-cluster.yaml:{template_path}:ro" in service(node)["volumes"]
    rendered = entrypoint().render((DOCKER / "ringway-cluster.yaml").read_text(), env)
    parsed: dict[str, Any] = yaml.safe_load(rendered)
    return parsed


def test_each_node_gets_its_own_id_and_event_log_and_shares_the_rest() -> None:
    configs = {node: node_config(node)["service"] for node in NODES}
    a, b = (configs[n] for n in NODES)
    assert (a["node_id"], b["node_id"]) == NODES
    assert a["event_log"] != b["event_log"]
    assert (
        a["customer_store"] == b["customer_store"] == "postgresql://ringway@postgres:5432/ringway"
    )
    assert a["redis_url"] == b["redis_url"] == "redis://redis:6379/0"
    for config in configs.values():
        assert config["event_log"].startswith("postgresql://ringway@postgres:5432/")
        for url in (config["event_log"], config["customer_store"]):
            assert urlsplit(url).password is None  # PGPASSWORD carries it, not the config
        assert (config["host"], config["http_port"]) == ("0.0.0.0", 8080)


def test_the_event_log_databases_are_created_by_postgres_on_first_start() -> None:
    sql = (DOCKER / "postgres-init" / "10-ringway-event-logs.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+) OWNER ringway;", sql))
    wanted = {node_config(node)["service"]["event_log"].rsplit("/", 1)[1] for node in NODES}
    assert created == wanted
    postgres = service("postgres")
    assert postgres["environment"]["POSTGRES_USER"] == "ringway"
    assert postgres["environment"]["POSTGRES_DB"] == "ringway"


def test_each_node_config_loads_with_ringways_own_loader() -> None:
    pending = PENDING_SERVICE_KEYS - set(ServiceDoc.model_fields)
    # Until the scale-out adds them to the schema, its keys are the only unknown ones.
    assert pending <= PENDING_SERVICE_KEYS
    for node in NODES:
        doc = node_config(node)
        unknown = set(doc["service"]) - set(ServiceDoc.model_fields)
        assert unknown == pending, f"unexpected service keys: {unknown - pending}"
        doc["service"] = {k: v for k, v in doc["service"].items() if k not in pending}
        config = load_config_text(yaml.safe_dump(doc), f"{node}.yaml")
        assert {a.id for a in config.agents} >= {"alice", "bob"}
        env = service(node)["environment"]
        # Shared passwords and token secret: a login or token from one node works on the other.
        assert {u.id: u.password_env in env for u in config.users} == {
            u.id: True for u in config.users
        }
        assert config.service.token_secret_env in env and config.service.admin_token_env in env


def compose_client() -> tuple[list[str] | None, str]:
    """``docker compose`` if this machine has it, else why not.

    Only the v2 plugin: the retired docker-compose 1.x rejects valid spec files (``name:``).
    """
    docker = shutil.which("docker")
    if docker is None:
        return None, "no docker client is installed"
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode == 0:
        return [docker, "compose"], ""
    return None, f"docker has no compose plugin: {' '.join(probe.stderr.split())}"


def test_the_docker_client_accepts_the_file_where_it_can_check() -> None:
    client, reason = compose_client()
    if client is None:
        # Not checked by Docker here, for exactly this reason (the structure tests above
        # still ran). `docker compose config` needs no engine, only the compose plugin.
        assert reason == "no docker client is installed" or "unknown command" in reason, reason
        return
    # --env-file: a developer's docker/.env must not fill in what this test leaves out.
    command = [*client, "--env-file", os.devnull, "-f", str(DOCKER / "compose.yaml")]
    env = {**os.environ, **{name: "test-only" for name in SECRETS}}
    done = subprocess.run([*command, "config", "-q"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    bare = {k: v for k, v in os.environ.items() if k not in SECRETS}
    missing = subprocess.run([*command, "config", "-q"], capture_output=True, text=True, env=bare)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
