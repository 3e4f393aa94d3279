"""The SIP core stays sans-I/O: no sockets, no event loop, no clock, no global randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ivr.sip

PACKAGE = Path(ivr.sip.__file__).parent
MODULES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN = {"asyncio", "socket", "selectors", "ssl", "threading", "time", "datetime", "uvloop"}


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_sip_core_module_does_no_io_and_reads_no_clock(path: Path) -> None:
    tree = ast.parse(path.read_text())
    assert not imported(tree) & FORBIDDEN
    for node in ast.walk(tree):  # randomness only through an injected random.Random
        if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "random":
            assert node.attr == "Random", f"{path.name} uses random.{node.attr}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_sip_core_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 700  # STYLE.md: past ~700 it should be split
