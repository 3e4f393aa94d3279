"""``ringway simulate --report DIR``: an HTML page with the run's charts and tables.

Charts (PNG, matplotlib's Agg canvas — `Figure` objects, never pyplot, so no
global figure state and nothing to close): service level and ASA per interval
against each queue's target, occupancy, queue length, and the staffing curve
(agents logged in by the plan vs the Erlang requirement per interval).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from simulation.model import Scenario
from simulation.staffing import staffing_plan
from simulation.tables import results_table

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Ringway simulation: {{ doc.scenario }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
 pre { background: #f5f5f5; padding: 1rem; overflow-x: auto; }
 img { max-width: 100%; border: 1px solid #ddd; margin: .5rem 0; }
 table { border-collapse: collapse; font-size: .85rem; }
 td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: right; }
</style></head><body>
<h1>{{ doc.scenario }}</h1>
<p>{{ doc.description }}</p>
<p>{{ doc.replications }} replications, seed {{ doc.seed }}, {{ doc.interval_count }} intervals of
{{ (doc.interval_s / 60) | round(1) }} min from {{ doc.start }}; {{ doc.confidence }}.
Contacts simulated: {{ doc.contacts_simulated }}.
Definitions: <code>simulation/metrics.py</code>.</p>
<h2>Results</h2>
<pre>{{ table }}</pre>
<h2>Charts</h2>
{% for chart in charts %}<figure><img src="{{ chart.file }}" alt="{{ chart.title }}">
<figcaption>{{ chart.title }}</figcaption></figure>
{% endfor %}
<h2>Per interval</h2>
<table><tr><th>start</th>{% for q in queues %}<th>{{ q }} offered</th><th>{{ q }} SL</th>
<th>{{ q }} ASA</th>{% endfor %}<th>agents</th><th>occupancy</th></tr>
{% for row in doc.intervals %}<tr><td>{{ row.start }}</td>
{% for q in queues %}{% set c = row.queues[q] %}<td>{{ c.offered }}</td>
<td>{{ fmt(c.service_level) }}</td><td>{{ fmt(c.asa) }}</td>{% endfor %}
<td>{{ fmt(row.overall.agents) }}</td><td>{{ fmt(row.overall.occupancy) }}</td></tr>
{% endfor %}</table>
</body></html>
"""


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _series(document: dict[str, Any], queue: str | None, key: str) -> list[float]:
    rows = document["intervals"]
    cells = [r["overall"] if queue is None else r["queues"][queue] for r in rows]
    return [float("nan") if c.get(key) is None else c[key] for c in cells]


def _chart(
    path: Path,
    title: str,
    ylabel: str,
    labels: list[str],
    lines: list[tuple[str, list[float], str]],
) -> None:
    figure = Figure(figsize=(10, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    x = list(range(len(labels)))
    for name, values, style in lines:
        axes.plot(x, values, style, label=name)
    step = max(1, len(labels) // 16)
    axes.set_xticks(x[::step], labels[::step], rotation=45)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", loc="best")
    figure.tight_layout()
    figure.savefig(path)


def write_report(scenario: Scenario, document: dict[str, Any], directory: Path) -> Path:
    """Write ``index.html`` and its PNGs into ``directory``; return the page's path."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = [row["start"] for row in document["intervals"]]
    queues = list(document["queues"])
    charts = []
    for file, title, ylabel, lines in _plans(scenario, document, queues):
        _chart(directory / file, title, ylabel, labels, lines)
        charts.append({"file": file, "title": title})
    page = (
        Environment(autoescape=True)
        .from_string(TEMPLATE)
        .render(doc=document, table=results_table(document), charts=charts, queues=queues, fmt=_fmt)
    )
    index = directory / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _plans(
    scenario: Scenario, document: dict[str, Any], queues: list[str]
) -> list[tuple[str, str, str, list[tuple[str, list[float], str]]]]:
    count = len(document["intervals"])
    info = document["queues"]
    sl = [(q, _series(document, q, "service_level"), "-") for q in queues]
    sl += [(f"{q} target", [info[q]["target"]] * count, "--") for q in queues]
    asa = [(q, _series(document, q, "asa"), "-") for q in queues]
    asa += [(f"{q} threshold", [info[q]["threshold_s"]] * count, "--") for q in queues]
    occupancy = [("all agents", _series(document, None, "occupancy"), "k-")]
    occupancy += [(q, _series(document, q, "occupancy"), "-") for q in queues]
    length = [(q, _series(document, q, "queue_length"), "-") for q in queues]
    need = staffing_plan(scenario, simulate=False)["intervals"]
    staffing = [
        ("logged in (plan)", _series(document, None, "agents"), "k-"),
        ("Erlang, dedicated pools", [float(r["dedicated"]["raw"]) for r in need], "--"),
        ("Erlang, one pool", [float(r["pooled"]["raw"]) for r in need], ":"),
        ("scheduled (shrinkage)", [float(r["dedicated"]["scheduled"]) for r in need], "-."),
    ]
    return [
        (
            "service_level.png",
            "Service level per interval vs target",
            "answered within T / offered",
            sl,
        ),
        ("asa.png", "ASA per interval vs threshold", "seconds", asa),
        ("occupancy.png", "Occupancy per interval", "working / (working + ready)", occupancy),
        (
            "queue_length.png",
            "Queue length over time (mean per interval)",
            "contacts waiting",
            length,
        ),
        ("staffing.png", "Staffing curve", "agents", staffing),
    ]
