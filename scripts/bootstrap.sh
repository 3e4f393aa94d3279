#!/usr/bin/env bash
# Bootstrap a fresh machine: a Python >= 3.11 virtualenv in .venv with Ringway and its
# test tools installed. Debian packages that only some tests need (sipp, baresip,
# chromium, redis-server, postgresql) are installed by tests/bootstrap.py when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "ringway needs Python >= 3.11 (found: $("$PYTHON" --version 2>&1))" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv
  else
    echo "python venv/ensurepip missing: install python3-venv" >&2
    exit 2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# The native build (scripts/build_native.py, `make native`) needs a C compiler and Python's headers.
if ! command -v gcc >/dev/null || ! [ -f "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc python3-dev >/dev/null
  else
    echo "no C compiler or Python headers: the router runs as pure Python (install gcc python3-dev)" >&2
  fi
fi
