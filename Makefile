# Crier — two commands on a fresh machine: `make dev` and `make test`.
# Needs only Python 3.11 or newer and make; everything else is installed into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint import-graph chaos bench install migrate api worker sandbox compose-check lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml sdk/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e ./sdk
	touch $(STAMP)

install: $(STAMP)

## API + worker + platform sandbox; embedded PostgreSQL/Redis under .data/ unless DATABASE_URL/REDIS_URL are set
dev: $(STAMP)
	$(BIN)/crier dev

## The whole suite, on embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

LINTED := src tests bench sdk migrations scripts

## Formatting, lint rules, types (mypy --strict on src/crier) and the import graph, as CI checks them
## (.pre-commit-config.yaml runs the same before a commit)
lint: $(STAMP)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy
	@$(MAKE) --no-print-directory import-graph

## Which crier package imports which, and every import cycle (exits 1 on a cycle): scripts/import_graph.py
import-graph: $(STAMP)
	$(BIN)/python scripts/import_graph.py

## Fault injection: kill workers, Redis and PostgreSQL under load (CHAOS_POSTS to size it)
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

## Benchmarks (figures as ratios against a baseline measured in the same run)
bench: $(STAMP)
	$(BIN)/python -m bench.run

migrate: $(STAMP)
	$(BIN)/crier migrate

## Validate docker-compose.yml (no Docker engine needed; never writes .env: without one, .env.example is used)
compose-check:
	@if docker compose version >/dev/null 2>&1; then compose="docker compose"; \
	elif command -v docker-compose >/dev/null 2>&1; then compose=docker-compose; \
	else echo "compose-check: Docker Compose is not installed (neither 'docker compose' nor 'docker-compose'); install it to check docker-compose.yml" >&2; exit 1; fi; \
	if [ -f .env ]; then envfile=.env; else envfile=.env.example; echo "compose-check: no .env here, checking with .env.example (nothing is written)"; fi; \
	CRIER_COMPOSE_ENV=$$envfile $$compose --env-file $$envfile config --quiet && \
	CRIER_COMPOSE_ENV=$$envfile $$compose --env-file $$envfile -f docker-compose.yml -f deploy/compose.secrets.yml config --quiet && \
	echo "compose-check: docker-compose.yml (and deploy/compose.secrets.yml) valid with $$compose and $$envfile"

## Re-pin requirements.lock (the image installs exactly it) after changing dependencies in pyproject.toml
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--generate-hashes --no-header --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .data
