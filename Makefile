# fuwu — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
FUWU   := $(BIN)/fuwu
HOST   ?= 127.0.0.1:8000
# Where the demo's generated population and screening go: fuwu's own data folder.
VAR    ?= $(or $(FUWU_VAR_DIR),var)

.PHONY: demo serve worker test prerequisites install setup-demo lint typecheck migrations-check schema messages check clean

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
# The default SQLite database's folder is made by fuwu itself when it first opens it.
setup-demo: install
	$(FUWU) migrate --no-input -v 0
	$(FUWU) areas load
	$(FUWU) standards load standards/
	$(FUWU) demo_accounts
	@# A small synthetic population, screened, so the proactive list has people on it; also loaded into
	@# the registry, where the home-care demo adds an elder of 82 for the officer's screening to find.
	@mkdir -p $(VAR)
	test -f $(VAR)/demo-population.parquet || $(FUWU) population generate --size 5000 --seed 1 --out $(VAR)/demo-population.parquet --quiet
	$(FUWU) screen --population $(VAR)/demo-population.parquet --out $(VAR)/demo-screen --quiet
	$(FUWU) residents load-parquet $(VAR)/demo-population.parquet
	$(FUWU) demo_homecare
	$(FUWU) demo_applications
	$(FUWU) demo_compliance
	$(FUWU) demo_activity --months 12 --seed 1

# The development server (reloads on code changes) and a background worker beside it; Ctrl-C stops both.
demo: setup-demo
	$(FUWU) serve --dev --bind $(HOST)

# The production server: gunicorn (2 × CPUs + 1 workers, FUWU_WEB_WORKERS to change), WhiteNoise, and a
# worker beside it. With FUWU_ENV=production, run `fuwu collectstatic --noinput` first (docs/deploy.md).
serve: install
	$(FUWU) serve --bind $(HOST)

# A background worker on its own (more of them may run, on any machine with the database).
worker: install
	$(FUWU) worker

# Chromium, a Chinese font, Pango, msgfmt and Java: installed when root with apt, otherwise named.
prerequisites:
	@test -n "$(SKIP_PREREQUISITES)" || sh scripts/check-prerequisites

# PYTEST_ARGS passes options through, e.g. `make test PYTEST_ARGS="tests/applications -x"`.
test: prerequisites install
	$(BIN)/pytest $(PYTEST_ARGS)

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
