# fuwu — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
FUWU   := $(BIN)/fuwu
HOST   ?= 127.0.0.1:8000

.PHONY: demo test install setup-demo lint typecheck migrations-check schema messages check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs the pinned dependencies; re-runs only when a lock file changes.
$(VENV)/.installed: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Idempotent: safe to run again; unchanged standards and existing accounts are left as they are.
setup-demo: install
	$(FUWU) migrate --no-input -v 0
	$(FUWU) areas load
	$(FUWU) standards load standards/
	$(FUWU) demo_accounts
	@# A small synthetic population, screened, so the proactive list has people on it; also loaded into
	@# the registry, where the home-care demo adds an elder of 82 for the officer's screening to find.
	test -f var/demo-population.parquet || $(FUWU) population generate --size 5000 --seed 1 --out var/demo-population.parquet --quiet
	$(FUWU) screen --population var/demo-population.parquet --out var/demo-screen --quiet
	$(FUWU) residents load-parquet var/demo-population.parquet
	$(FUWU) demo_homecare

demo: setup-demo
	@echo "fuwu is running on http://$(HOST)/  (Ctrl-C to stop)"
	$(FUWU) runserver $(HOST)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

migrations-check: install
	$(FUWU) makemigrations --check --dry-run

# Regenerate the published JSON Schema and the compiled translations.
schema: install
	$(FUWU) standards schema --out docs/standard.schema.json

messages: install
	cd fuwu && ../$(FUWU) makemessages -l en --no-location && ../$(FUWU) compilemessages -l en

check: lint typecheck migrations-check test

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
