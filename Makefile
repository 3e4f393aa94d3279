# The two commands of the README: `make run` and `make test`. Both bootstrap .venv.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.ringway-installed
HOST  ?= 127.0.0.1
PORT  ?= 8080

.PHONY: run test lint typecheck native pytest peers prompts bench clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh
	@touch $(STAMP)

run: $(STAMP) prompts
	@$(PY) scripts/build_native.py || echo "native build failed: running the pure-Python modules" >&2
	$(VENV)/bin/ringway serve --host $(HOST) --http-port $(PORT)

test: $(STAMP) lint typecheck native peers pytest

peers:
	scripts/install-peers.sh

# IVR prompts are spoken at build time (espeak-ng + sox); without them the IVR plays tones.
prompts:
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng sox >/dev/null; } || true
	@scripts/make-prompts.sh || echo "IVR prompts not generated: the IVR will play tones" >&2

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@! grep -rnIE --exclude-dir=.venv --exclude-dir=.git --exclude-dir=var --exclude-dir=build '^(<<<<<<<|>>>>>>>) ' . \
	  || { echo "merge conflict markers left in the files above" >&2; exit 1; }

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The router's decision path, the simulator's pump and the SIP core compiled with mypyc into build/native
# (router/_native.py); a no-op when the build matches the sources. The tests check it is used.
native: $(STAMP)
	$(PY) scripts/build_native.py

pytest: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/routing.py

clean:
	rm -rf $(VENV) build *.egg-info
