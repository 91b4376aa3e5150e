# Stepwise: `make run` serves the demo on embedded SQLite, `make test` runs the suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint fmt i18n system-deps migrate demo clean bench bench-sizes load

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## setup: virtualenv, dependencies, system packages, compiled translations
setup: $(STAMP) system-deps i18n

## system-deps: Graphviz (diagrams), Chromium and a CJK font (browser tests), slapd (directory
##              tests) when missing (root+apt); lets the local PostgreSQL feed a test replica
system-deps:
	@bash scripts/system-deps.sh

## i18n: compile the zh_CN and en message catalogues
i18n: $(STAMP)
	@$(BIN)/pybabel compile --use-fuzzy -d app/locale -D messages --statistics 2>&1 | tail -n 2

## migrate: bring the configured database to the newest schema
migrate: setup
	$(BIN)/stepwise migrate

## demo: seed the demo bank (idempotent)
demo: migrate
	$(BIN)/stepwise demo

## run: set up, migrate the embedded SQLite database, seed demo data, serve with the scheduler
run: demo
	STEPWISE_DEMO_MODE=true $(BIN)/stepwise serve --host $(HOST) --port $(PORT)

## test: set up and run the whole suite on SQLite and PostgreSQL
test: setup
	$(BIN)/pytest -q

## bench: benchmarks beside same-run baselines -> bench/results/latest.json, docs/benchmarks.md
##        (BENCH_SCALE=0.02 for a quick run; PostgreSQL on 127.0.0.1:5432, BENCH_PG_URL)
BENCH_SCALE ?= 1.0
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	BENCH_SCALE=$(BENCH_SCALE) $(BIN)/python -m bench.run

## bench-sizes: the size-dependent parts (peer, scheduler, dashboard, memory) at full scale,
##              kept apart in bench/results/full-scale.json and shown in docs/benchmarks.md
bench-sizes: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	BENCH_SCALE=1 $(BIN)/python -m bench.run --only peer scheduler dashboard memory --save-as full-scale

## load: 50 people at once (Locust) on a generated bank served by `stepwise serve --workers 2`
##       with the scheduler, on PostgreSQL 127.0.0.1:5432 (database stepwise_load_<size>);
##       CSVs -> bench/results/load-<size>/, table -> docs/benchmarks.md.
##       LOAD_SIZE=national for 100,000 people; LOAD_KEEP=1 reuses an already seeded database
LOAD_SIZE ?= quick
LOAD_USERS ?= 50
LOAD_MINUTES ?= 2.5
load: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench,load]'
	$(BIN)/python -m bench.load.run --size $(LOAD_SIZE) --users $(LOAD_USERS) \
		--minutes $(LOAD_MINUTES) $(if $(LOAD_KEEP),--keep-database,)

## lint: ruff over code and tests
lint: $(STAMP)
	$(BIN)/ruff check app tests

fmt: $(STAMP)
	$(BIN)/ruff check --fix app tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
