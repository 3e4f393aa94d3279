# The two commands of the README: `make run` and `make test`. Both bootstrap .venv.
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.ringway-installed
HOST  ?= 127.0.0.1
PORT  ?= 8080

.PHONY: run test lint typecheck pytest peers bench clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	scripts/bootstrap.sh
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ringway serve --host $(HOST) --http-port $(PORT)

test: $(STAMP) lint typecheck peers pytest

peers:
	scripts/install-peers.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/routing.py

clean:
	rm -rf $(VENV) build *.egg-info
