"""Golden results of the seeded scenarios in ``simulation/scenarios/``.

Each ``NAME.yaml`` listed in `GOLDEN` has ``NAME.golden.json``: the exact
``ringway simulate NAME.yaml --json`` document for its seed. The simulator is
deterministic given the seed (every random draw comes from a seeded stream,
the router's tie-breaks included), so the tests compare exactly. When a change
to the router or the simulator is *meant* to change results, regenerate and
review the diff like code:

    .venv/bin/python -m simulation.golden            # rewrite every golden file
    .venv/bin/python -m simulation.golden --check    # exit 1 if any differs
    .venv/bin/python -m simulation.golden skills_pooling   # just one
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).parent / "scenarios"
GOLDEN = ("erlang_c_mm14", "erlang_a_mm13m", "skills_pooling", "contact_centre_day")


def scenario_path(name: str) -> Path:
    return SCENARIOS / f"{name}.yaml"


def golden_path(name: str) -> Path:
    return SCENARIOS / f"{name}.golden.json"


def produce(name: str) -> dict[str, Any]:
    """The results document, as it reads back from JSON (tuples become lists...)."""
    from simulation.loader import load_scenario
    from simulation.runner import run_scenario

    document = run_scenario(load_scenario(scenario_path(name)))
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    names = [a for a in argv if not a.startswith("--")] or list(GOLDEN)
    unknown = [n for n in names if n not in GOLDEN]
    if unknown:
        print(
            f"error: no golden scenario {', '.join(unknown)} (known: {', '.join(GOLDEN)})",
            file=sys.stderr,
        )
        return 2
    differ = []
    for name in names:
        text = render(produce(name))
        path = golden_path(name)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                differ.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if differ:
        print(f"golden results differ: {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
