"""The CRM's model, lookup and SQLite store, the B2BUA's kept lookups and the SQLite
helpers load compiled (scripts/build_native.py), with their records still plain dataclasses, and
give the same pops compiled and with ``RINGWAY_PURE=1``."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import crm.lookup
import crm.model
import crm.sqlite
import ringway.caller_lookups
import ringway.sqlitework
import router._native as native
from crm.lookup import LookupResult, LookupStatus
from crm.model import Consent, Customer, Tier

ROOT = Path(__file__).resolve().parents[2]
MODULES = (crm.model, crm.lookup, crm.sqlite, ringway.caller_lookups, ringway.sqlitework)

# A child's pops of a matched, a shared and an unknown number, and where its modules came from.
CHILD = """
import json, sys
import crm.lookup, crm.model, crm.sqlite, ringway.caller_lookups, ringway.sqlitework
from crm.lookup import _result
from crm.model import Consent, Customer, Tier
ann = Customer(id="c-1", name="Ann", phones=("+441632960001",), tier=Tier.GOLD,
    preferences={"k": "v"}, consents=(Consent(purpose="sms", granted=True, at="2024-01-01"),))
bo = Customer(id="c-2", name="Bo")
pops = [_result("+441632960001", found).to_pop() for found in ([ann], [ann, bo], [])]
modules = [m.__file__ for m in (crm.lookup, crm.model, crm.sqlite, ringway.caller_lookups,
    ringway.sqlitework)]
json.dump({"pops": pops, "dict": ann.to_dict(), "modules": modules}, sys.stdout)
"""


def child(*, pure: bool) -> dict[str, object]:
    env = {**os.environ, "RINGWAY_PURE": "1"} if pure else {**os.environ}
    if not pure:
        env.pop("RINGWAY_PURE", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=env, check=True, capture_output=True
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_the_test_run_uses_the_compiled_modules() -> None:
    assert native.native_enabled(), "no usable build/native: run `make native`"
    for module in MODULES:
        assert native.is_compiled(module), f"{module.__name__} loaded from {module.__file__}"


def test_the_records_stay_plain_frozen_dataclasses() -> None:
    for cls in (Consent, Customer, LookupResult):
        assert dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__
    customer = Customer(id="c-1", name="Ann", tier=Tier.SILVER)
    assert dataclasses.replace(customer, name="Bo").name == "Bo"
    result = LookupResult(status=LookupStatus.MATCHED, candidates=(customer,))
    assert result.customer is customer and result.tier is Tier.SILVER


def test_compiled_and_interpreted_give_the_same_pops() -> None:
    compiled, pure = child(pure=False), child(pure=True)
    assert all(str(file).endswith(".so") for file in compiled["modules"]), compiled  # type: ignore[attr-defined]
    assert all(str(file).endswith(".py") for file in pure["modules"]), pure  # type: ignore[attr-defined]
    assert compiled["pops"] == pure["pops"] and compiled["dict"] == pure["dict"]
