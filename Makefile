# Frontdesk: `make run` serves the app with demo data; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test bench lint clean

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[postgres,redis,test]"
	touch $(BIN)/activate

run: $(BIN)/activate
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) demo-data --if-empty
	FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port 5000

test: $(BIN)/activate
	$(BIN)/pytest

# Search and list over HTTP (1,000,000 customers unless BENCH_ARGS says otherwise), the profile,
# and a 10,000-booking merge. Add --database-url / --postgres to each for PostgreSQL.
bench: $(BIN)/activate
	$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python tests/benchmarks/bench_profile.py $(PROFILE_ARGS)
	$(BIN)/python tests/benchmarks/bench_merge.py $(MERGE_ARGS)

lint: $(BIN)/activate
	$(BIN)/ruff check webapp tests

clean:
	rm -rf $(VENV) .cache
