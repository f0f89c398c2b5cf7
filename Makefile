# Two commands set everything up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WITH_SERVICES := $(PY) scripts/devservices.py exec --
PYTEST_ARGS ?=
# Test processes in parallel (pytest-xdist): one per core, at most four (each gets its own test database,
# Redis database and Celery worker).
TEST_WORKERS ?= auto
BENCH ?= tests/bench

.PHONY: install run test bench lint format manage migrations clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## The app with the demo county on http://127.0.0.1:$(PORT) (embedded PostgreSQL/Redis unless configured);
## another port: make run PORT=8080.
PORT ?= 8000
run: install
	PORT=$(PORT) $(WITH_SERVICES) scripts/run.sh

## The whole suite, browser tests included.
test: install
	$(WITH_SERVICES) $(PY) -m pytest -n $(TEST_WORKERS) --maxprocesses=4 $(PYTEST_ARGS)

## Benchmarks: JSON results under bench-results/ (one file: make bench BENCH=tests/bench/test_import.py).
bench: install
	RUN_BENCH=1 $(WITH_SERVICES) $(PY) -m pytest -p no:cacheprovider -s $(BENCH) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Any manage.py command against the configured or embedded services: make manage CMD="showmigrations"
manage: install
	$(WITH_SERVICES) $(PY) manage.py $(CMD)

migrations: install
	$(WITH_SERVICES) $(PY) manage.py makemigrations

clean:
	rm -rf .data staticfiles bench-results test-artifacts
