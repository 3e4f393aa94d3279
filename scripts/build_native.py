"""Compile the hot modules with mypyc into build/native/ (see `router._native`).

    .venv/bin/python scripts/build_native.py          # build if the sources changed
    .venv/bin/python scripts/build_native.py --force  # build anyway

The routing core's decision path, the simulator's pump and the SIP core (parser,
transactions, dialogs, SDP, the edge and its transport) are compiled from the
same source the type checker reads: mypyc turns the annotations ``mypy --strict``
already checks into C types. The records the router reads on every command
(`Contact` in router.model, `Agent`, `Capacity`, `Queue`) are native classes;
the event, reservation, explanation and opening-hours records stay interpreted
(docs/native-build.md says why, and what their users had to change).

The build is all or nothing: the manifest names every compiled source with its
SHA-256, and `router._native` ignores the whole build when any of them changed.
Needs a C compiler and the interpreter's headers (Debian: gcc, python3-dev);
``scripts/bootstrap.sh`` installs them when missing. Exit 2 with one line when
the build cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["RINGWAY_PURE"] = "1"  # this process only reads the sources: no stale-build warning

from router._native import MANIFEST, NATIVE_ROOT, abi_tag, source_digest, stale_reason  # noqa: E402

# Every module the build compiles. Package __init__ files and router._native stay
# interpreted: they choose between the build and the sources.
COMPILED = (
    "router/agents.py",
    "router/capacity.py",
    "router/engine.py",
    "router/flow.py",
    "router/index.py",
    "router/matching.py",
    "router/model.py",
    "router/policies/base.py",
    "router/policies/builtin.py",
    "router/queues.py",
    "router/restore.py",
    "router/skills.py",
    "router/stats.py",
    "router/store/memory.py",
    "ivr/edge.py",
    "ivr/transport.py",
    "ivr/sip/actions.py",
    "ivr/sip/answer.py",
    "ivr/sip/builders.py",
    "ivr/sip/dialog.py",
    "ivr/sip/framing.py",
    "ivr/sip/headers.py",
    "ivr/sip/message.py",
    "ivr/sip/offer_answer.py",
    "ivr/sip/sdp.py",
    "ivr/sip/sdp_cache.py",
    "ivr/sip/start_line.py",
    "ivr/sip/transaction.py",
    "ivr/sip/transaction_states.py",
    "ivr/sip/uri.py",
    "ivr/sip/values.py",
    "ivr/calls/b2bua.py",
    "ivr/calls/commands.py",
    "ivr/calls/driver.py",
    "ivr/calls/media.py",
    "ivr/calls/ports.py",
    "ivr/calls/session.py",
    "ivr/media/clock.py",
    "ivr/media/endpoint.py",
    "ivr/media/player.py",
    "ivr/flows/run.py",
    "ringway/bus.py",
    "ringway/metrics.py",
    "ringway/service.py",
    "ringway/telephony.py",
    "ringway/caller_lookups.py",
    "ringway/sqlitework.py",
    "ringway/cdr.py",
    "ringway/telephony_records.py",
    "ringway/telephony_forward.py",
    "ringway/persist.py",
    "crm/model.py",
    "crm/lookup.py",
    "crm/sqlite.py",
    "agent_desktop/chat.py",
    "agent_desktop/hub.py",
    "simulation/collect.py",
    "simulation/customers.py",
    "simulation/people.py",
    "simulation/store.py",
    "simulation/twin.py",
)
GROUP = "ringway_native"  # mypyc's shared runtime library: ringway_native__mypyc
TEMP = ROOT / "build" / "native-tmp"


def up_to_date() -> bool:
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return sorted(manifest.get("sources", {})) == sorted(COMPILED) and (
        stale_reason(manifest, ROOT) is None
    )


def missing_toolchain() -> str | None:
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(str(compiler).split()[0]) is None:
        return f"no C compiler ({compiler}); install gcc"
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not header.is_file():
        return f"no Python headers ({header}); install python3-dev"
    return None


def build() -> float:
    from mypyc.build import mypycify
    from setuptools import Distribution

    started = time.perf_counter()
    staging = TEMP / "lib"
    shutil.rmtree(staging, ignore_errors=True)  # a module dropped from COMPILED must go
    os.chdir(ROOT)  # mypy reads [tool.mypy] from pyproject.toml here
    extensions = mypycify(
        list(COMPILED),
        opt_level="3",
        group_name=GROUP,
        target_dir=str(TEMP / "c"),
    )
    # A Distribution built by hand, not setup(): setup() would parse pyproject.toml
    # with the virtualenv's own setuptools, which may predate its license field.
    dist = Distribution({"name": "ringway-native", "ext_modules": extensions})
    command = dist.get_command_obj("build_ext")
    command.build_lib = str(staging)  # type: ignore[attr-defined]
    command.build_temp = str(TEMP / "obj")  # type: ignore[attr-defined]
    dist.run_command("build_ext")
    # Swap in the new build whole, then write the manifest last: a build that
    # stopped half way leaves no manifest, so nothing of it is used.
    if NATIVE_ROOT.exists():
        shutil.rmtree(NATIVE_ROOT)
    shutil.copytree(staging, NATIVE_ROOT)
    manifest = {
        "abi": abi_tag(),
        "sources": {path: source_digest(ROOT / path) for path in COMPILED},
    }
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    args = parser.parse_args()
    if not args.force and up_to_date():
        print("native build up to date", file=sys.stderr)
        return 0
    problem = missing_toolchain()
    if problem is not None:
        print(f"build_native: {problem}", file=sys.stderr)
        return 2
    seconds = build()
    print(f"native build: {len(COMPILED)} modules in {seconds:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
