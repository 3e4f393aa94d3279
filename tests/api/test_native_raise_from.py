"""Compiled modules must not rely on ``raise ... from``: mypyc drops it.

Checked with mypyc 2.4 on a three-function module (docs/native-build.md): compiled,
``raise E() from exc`` leaves ``__cause__`` None, and ``raise E() from None`` leaves
``__suppress_context__`` False (the context shows in tracebacks again). Setting
``__cause__`` by hand before a plain ``raise`` survives compilation (`ringway.persist`,
`ringway.telephony`). So every module of scripts/build_native.py's ``COMPILED`` list:

* has no ``raise ... from <expression>`` at all (a cause that would be lost);
* has ``raise ... from None`` only where it had it when this test was written, in
  modules another branch owns (it costs only a traceback's wording there); a new one,
  or one in another module, fails here. A module cleared of them must leave the list.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Where ``from None`` is still written (compiled, it does not suppress the context):
# module -> how many. Only shrinks.
KNOWN_FROM_NONE = {
    "agent_desktop/chat.py": 1,
    "ivr/sip/message.py": 10,
    "ivr/sip/sdp.py": 1,
}


def compiled_modules() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "scripts" / "build_native.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets)
            and isinstance(node.value, ast.Tuple)
        ):
            names = tuple(ast.literal_eval(node.value))
            assert all(isinstance(name, str) for name in names)
            return names
    raise AssertionError("scripts/build_native.py has no COMPILED tuple")


def raises_from(source: str) -> list[tuple[int, str]]:
    """Each ``raise ... from X`` in ``source``: its line and X's source text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.cause is not None:
            found.append((node.lineno, ast.unparse(node.cause)))
    return found


def test_the_list_is_read() -> None:
    modules = compiled_modules()
    assert "ringway/telephony.py" in modules and "ringway/persist.py" in modules
    assert len(modules) >= 50


@pytest.mark.parametrize("module", compiled_modules())
def test_no_cause_that_mypyc_would_drop(module: str) -> None:
    found = raises_from((ROOT / module).read_text(encoding="utf-8"))
    causes = [(line, cause) for line, cause in found if cause != "None"]
    assert not causes, (
        f"{module}: `raise ... from` in a compiled module loses its cause (mypyc drops it); "
        f"set `__cause__` by hand and raise (see ringway/persist.py): lines {causes}"
    )
    nones = len(found) - len(causes)
    assert nones == KNOWN_FROM_NONE.get(module, 0), (
        f"{module}: {nones} `raise ... from None` (known: {KNOWN_FROM_NONE.get(module, 0)}); "
        "compiled, `from None` does not suppress the context either: set "
        "`__suppress_context__ = True` by hand, and update KNOWN_FROM_NONE if one went"
    )


def test_the_check_finds_them() -> None:
    source = (
        "try:\n    pass\nexcept KeyError as exc:\n"
        "    raise ValueError(\n        'x'\n    ) from exc\n"
        "def f():\n    raise ValueError() from None\n"
    )
    assert sorted(raises_from(source)) == [(4, "exc"), (8, "None")]


def test_known_modules_are_compiled() -> None:
    assert set(KNOWN_FROM_NONE) <= set(compiled_modules())
