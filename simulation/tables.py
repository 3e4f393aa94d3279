"""Plain-text tables for ``ringway simulate`` and ``ringway staff`` (no --json)."""

from __future__ import annotations

from typing import Any

COLUMNS = (
    ("offered", "offered", "{:.1f}"),
    ("answered", "answered", "{:.1f}"),
    ("abandoned", "abandoned", "{:.1f}"),
    ("service_level", "SL", "{:.3f}"),
    ("service_level_abandon_aware", "SL(aa)", "{:.3f}"),
    ("asa", "ASA s", "{:.2f}"),
    ("aht", "AHT s", "{:.1f}"),
    ("occupancy", "occupancy", "{:.3f}"),
)


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    text = fmt.format(value)
    half = (row.get("ci95") or {}).get(key)
    return (
        text
        if half is None or key in ("offered", "answered", "abandoned")
        else (f"{text}±{fmt.format(half)}")
    )


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]


def _block(results: dict[str, Any]) -> list[str]:
    header = ["queue", *(title for _, title, _ in COLUMNS)]
    rows = [
        [name, *(_cell(row, key, fmt) for key, _, fmt in COLUMNS)]
        for name, row in results["queues"].items()
    ]
    rows.append(["overall", *(_cell(results["overall"], key, fmt) for key, _, fmt in COLUMNS)])
    overall = results["overall"]
    lines = _grid(header, rows)
    if overall.get("utilisation") is not None:
        lines.append(
            f"agents logged in {overall['agents']:.1f} on average, utilisation "
            f"{overall['utilisation']:.3f} (breaks included)"
        )
    return lines


def results_table(document: dict[str, Any]) -> str:
    pairs = " (antithetic pairs)" if document["antithetic"] else ""
    lines = [
        f"{document['scenario']}: {document['replications']} replications{pairs}, seed "
        f"{document['seed']}, {document['interval_count']} x {document['interval_s'] / 60:g} min "
        f"from {document['start']}; 95 % half-widths after ±",
        "",
        *_block(document),
    ]
    for name, variant in (document.get("variants") or {}).items():
        lines += ["", f"variant {name}:", *_block(variant)]
    return "\n".join(lines)


def staffing_table(table: dict[str, Any]) -> str:
    header = ["start"]
    rows: list[list[str]] = []
    queues = list(table["intervals"][0]["queues"]) if table["intervals"] else []
    header += [f"{q} (rate/h, N)" for q in queues]
    header += ["dedicated", "pooled"]
    simulate = table["method"] == "simulate"
    if simulate:
        header.append("simulated")
    header.append("scheduled")
    for row in table["intervals"]:
        cells = [row["start"]]
        cells += [
            f"{row['queues'][q]['rate_per_hour']:.0f}, {row['queues'][q]['raw']}" for q in queues
        ]
        cells += [str(row["dedicated"]["raw"]), str(row["pooled"]["raw"])]
        chosen = row["dedicated"]
        if simulate:
            sim = row["simulated"]
            cells.append("not met" if sim["raw"] is None else str(sim["raw"]))
            chosen = sim if sim["raw"] is not None else chosen
        cells.append(str(chosen.get("scheduled", "-")))
        rows.append(cells)
    intro = (
        f"{table['scenario']}: agents per interval ({table['method']}); scheduled = raw / "
        f"(1 - shrinkage {table['shrinkage']:g})"
    )
    return "\n".join([intro, "", *_grid(header, rows)])
