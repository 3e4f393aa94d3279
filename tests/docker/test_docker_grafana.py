"""Grafana provisioning and the contact-centre dashboard, against what Ringway really exports.

The metric names a panel queries must be ones a built app serves on /metrics
(scraped here, HELP/TYPE lines included, so a rolling gauge with no data yet
still counts) and ones `ringway.metrics` documents. The labels must exist: the
per-node selector reads ``node``, which only Prometheus's relabelling adds.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import yaml

from ringway.app import build
from ringway.config import load_config_text

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
GRAFANA = DOCKER / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "ringway-contact-centre.json"
METRIC = re.compile(r"\bringway_[a-z0-9_]+\b")
# What the dashboard is for: every one of these must be on it.
KPIS = {
    "waiting": "ringway_queue_contacts_waiting",
    "oldest wait": "ringway_queue_oldest_wait_seconds",
    "service level": "ringway_queue_service_level_ratio",
    "service-level target": "ringway_queue_service_level_target_ratio",
    "ASA": "ringway_queue_asa_seconds",
    "abandons": "ringway_contacts_abandoned_total",
    "AHT": "ringway_queue_aht_seconds",
    "agents by state": "ringway_agents",
    "routing-decision latency": "ringway_routing_decision_seconds_bucket",
}
PROMQL_FUNCTIONS = {"sum", "max", "min", "avg", "rate", "increase", "histogram_quantile"}
CONFIG = """
service: {{data_dir: "{data_dir}", customer_store: "memory://"}}
skills: [support]
queues: [{{name: support, channel: voice, requires: support}}]
agents: [{{id: alice, skills: {{support: 1}}}}]
"""


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def expressions() -> list[str]:
    return [t["expr"] for panel in dashboard()["panels"] for t in panel["targets"]]


def scrape(tmp_path: Path) -> str:
    bundle = build(load_config_text(CONFIG.format(data_dir=tmp_path), "t.yaml"), {})

    async def main() -> str:
        async with bundle.app.router.lifespan_context(bundle.app):
            transport = httpx.ASGITransport(app=bundle.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ringway") as client:
                answer = await client.get("/metrics")
                assert answer.status_code == 200
                return answer.text

    return asyncio.run(main())


def exported_names(exposition: str) -> set[str]:
    """Every series name the exposition can carry, whether or not it has samples yet."""
    names = set(re.findall(r"^(ringway_\w+)[{ ]", exposition, re.MULTILINE))
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count")}
    for name, kind in re.findall(r"^# TYPE (ringway_\w+) (\w+)$", exposition, re.MULTILINE):
        names.update(name + suffix for suffix in suffixes.get(kind, ("",)))
    return names


def test_dashboard_queries_only_metrics_ringway_exports(tmp_path: Path) -> None:
    exported = exported_names(scrape(tmp_path))
    used = {name for expr in expressions() for name in METRIC.findall(expr)}
    assert used and used <= exported, f"not exported: {used - exported}"
    # Read, not imported: `import ringway.metrics` on its own trips a circular import.
    source = ast.parse((ROOT / "ringway" / "metrics.py").read_text())
    documented = set(METRIC.findall(ast.get_docstring(source) or ""))
    bases = {re.sub(r"_(bucket|total)$", "", name) for name in used}
    assert bases <= documented | {n.removesuffix("_total") for n in documented}


def test_dashboard_covers_the_contact_centre_kpis() -> None:
    used = {name for expr in expressions() for name in METRIC.findall(expr)}
    missing = {kpi for kpi, metric in KPIS.items() if metric not in used}
    assert not missing, f"no panel for: {missing}"


def test_labels_exist_and_node_comes_from_prometheus() -> None:
    labels_in_matchers = {m for e in expressions() for m in re.findall(r"(\w+)\s*=~?\s*\"", e)}
    grouped = {
        label.strip()
        for e in expressions()
        for group in re.findall(r"by \(([^)]*)\)", e)
        for label in group.split(",")
    }
    assert labels_in_matchers <= {"node", "queue", "state"}
    assert grouped <= {"queue", "state", "command", "le"}
    prometheus = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "ringway")
    assert any(rule["target_label"] == "node" for rule in job["relabel_configs"])


def test_expressions_are_well_formed() -> None:
    variables = {v["name"] for v in dashboard()["templating"]["list"]} | {"__rate_interval"}
    for expr in expressions():
        depth = {"(": 0, "{": 0, "[": 0}
        closing = {")": "(", "}": "{", "]": "["}
        for char in expr:
            if char in depth:
                depth[char] += 1
            elif char in closing:
                depth[closing[char]] -= 1
                assert depth[closing[char]] >= 0, expr
        assert set(depth.values()) == {0}, expr
        functions = set(re.findall(r"([a-z_]+)\s*\(", expr)) - {"by"}
        assert functions <= PROMQL_FUNCTIONS, expr
        assert set(re.findall(r"\$(\w+)", expr)) <= variables, expr


def test_panels_are_laid_out_and_use_the_provisioned_datasource() -> None:
    doc = dashboard()
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yaml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    panels = doc["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        assert all(t["datasource"]["uid"] == source["uid"] for t in panel["targets"])
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24 and box["h"] > 0, panel["title"]
    for variable in doc["templating"]["list"]:
        assert variable["datasource"]["uid"] == source["uid"]
    assert doc["uid"] and doc["title"] and doc["schemaVersion"] >= 36


def test_provisioning_paths_match_the_compose_mounts() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = dict(m.rsplit(":", 1)[0].split(":") for m in grafana["volumes"] if m.startswith("."))
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/ringway.yaml").read_text())
    (provider,) = providers["providers"]
    assert mounts["./grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
    assert "prometheus" in compose["services"]  # the datasource's host
    assert "127.0.0.1:9090:9090" in compose["services"]["prometheus"]["ports"]
