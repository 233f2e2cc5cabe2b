# Crier — two commands on a fresh machine: `make dev` and `make test`.
# Needs only Python 3.11 and make; everything else is installed into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test chaos bench install migrate api worker sandbox compose-check clean

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

## Fault injection: kill workers, Redis and PostgreSQL under load (CHAOS_POSTS to size it)
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

## Benchmarks (figures as ratios against a baseline measured in the same run)
bench: $(STAMP)
	$(BIN)/python -m bench.run

migrate: $(STAMP)
	$(BIN)/crier migrate

## Validate docker-compose.yml (no Docker engine needed)
compose-check:
	@test -f .env || cp .env.example .env
	@if docker compose version >/dev/null 2>&1; then docker compose config --quiet; else docker-compose config --quiet; fi

clean:
	rm -rf $(VENV) .data
