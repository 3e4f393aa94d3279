"""The compiled build of the hot modules, used only while it matches the sources.

`scripts/build_native.py` compiles the routing core's decision path (and the
simulator's pump) with mypyc — the same source, type-checked by the same
``mypy --strict`` — into ``build/native/``, and writes a manifest of the
SHA-256 of every source it compiled. A package that has compiled modules calls
`use_native` from its ``__init__``: when the manifest matches the sources on
disk, the build directory goes first on the package's ``__path__``, so
``import router.engine`` loads the extension; otherwise nothing changes and the
pure-Python modules load, as they do on a machine without a C compiler.

The manifest check is what keeps an edited module from being shadowed by a
stale extension: one changed byte in any compiled source and the whole build is
ignored (partly compiled packages would mix two versions of one class).
``RINGWAY_PURE=1`` forces the pure-Python modules (the tests compare both).

This module and the packages' ``__init__`` files are never compiled: they run
before the choice is made.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE_ROOT = ROOT / "build" / "native"
MANIFEST = NATIVE_ROOT / "manifest.json"
PURE_ENV = "RINGWAY_PURE"


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def abi_tag() -> str:
    """What an extension was built for: the interpreter and its ABI."""
    return f"{sys.implementation.cache_tag}-{sysconfig.get_config_var('SOABI') or ''}"


def stale_reason(manifest: dict[str, object], root: Path) -> str | None:
    """Why a build described by ``manifest`` must not be used (None: it may)."""
    if manifest.get("abi") != abi_tag():
        return f"built for {manifest.get('abi')}, running {abi_tag()}"
    sources = manifest.get("sources")
    if not isinstance(sources, dict) or not sources:
        return "the manifest lists no sources"
    for relative, digest in sources.items():
        path = root / relative
        if not path.is_file():
            return f"{relative} is gone"
        if source_digest(path) != digest:
            return f"{relative} changed since the build"
    return None


@functools.cache
def native_enabled() -> bool:
    """True when the compiled build exists, matches the sources, and is wanted."""
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return False
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    reason = stale_reason(manifest, ROOT)
    if reason is not None:
        # Not an error: the pure modules are correct, only slower. Say why once.
        # (logging imported here: it pulls in threading, which the core must not.)
        import logging

        log = logging.getLogger("ringway.native")
        log.warning("compiled modules not used (%s): run `make native`", reason)
        return False
    return _load_runtime()


def _load_runtime() -> bool:
    """Load mypyc's shared runtime library of the build by its file.

    The compiled modules import it as a top-level module. Putting build/native on
    ``sys.path`` instead would make build/native/ivr (a directory of extensions
    without ``__init__``) a namespace package ``ivr`` wherever the project's own
    directory is not on ``sys.path`` first, hiding the real package.
    """
    import importlib.util

    libraries = sorted(NATIVE_ROOT.glob("*__mypyc.*"))
    if len(libraries) != 1:
        return False
    path = libraries[0]
    name = path.name.split(".", 1)[0]
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            return False
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return True


def use_native(package_path: list[str], package: str) -> None:
    """Put the compiled modules of ``package`` (dotted name) first on its path."""
    if not native_enabled():
        return
    directory = NATIVE_ROOT.joinpath(*package.split("."))
    if directory.is_dir():
        package_path.insert(0, str(directory))


def is_compiled(module: object) -> bool:
    """True when ``module`` was loaded from a compiled extension."""
    return str(getattr(module, "__file__", "")).endswith((".so", ".pyd"))
