# Frontdesk: `make run` serves the app with demo data; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test bench loadtest lint clean browser-deps

$(BIN)/activate: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[postgres,redis,test]"
	touch $(BIN)/activate

# The task worker (CSV imports) runs beside the web server and stops with it.
run: $(BIN)/activate
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) demo-data --if-empty
	FLASK_DEBUG=1 $(BIN)/huey_consumer webapp.worker.huey --workers 2 --worker-type thread --quiet & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	FLASK_DEBUG=1 $(FLASK) run --host 127.0.0.1 --port 5000

test: $(BIN)/activate browser-deps
	$(BIN)/pytest

# The browser tests drive Debian's chromium and fetch the pinned htmx with npm. On a fresh machine
# run as root this installs both (apt-get); anywhere else it says what to install and stops.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@missing=""; command -v $(CHROMIUM) >/dev/null 2>&1 || missing=" chromium"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make test: installing$$missing for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make test: the browser tests need$$missing: run 'sudo apt-get install$$missing'" \
	      "(or set CHROMIUM=/path/to/chromium), then make test again." >&2; exit 1; \
	  fi; \
	fi

# Search and list over HTTP (1,000,000 customers unless BENCH_ARGS says otherwise), the profile,
# a 10,000-booking merge, the JSON API over the same book, 100,000 rows through `flask
# import-customers`, `flask export-customers` of the book, and sales, redemptions, a 5,000-sale
# profile and card-code lookups (bench_money.py). Add --database-url to each for PostgreSQL.
bench: $(BIN)/activate
	$(BIN)/python tests/benchmarks/bench.py $(BENCH_ARGS)
	$(BIN)/python tests/benchmarks/bench_profile.py $(PROFILE_ARGS)
	$(BIN)/python tests/benchmarks/bench_merge.py $(MERGE_ARGS)
	$(BIN)/python tests/benchmarks/bench_api.py $(API_ARGS)
	$(BIN)/python tests/benchmarks/bench_import.py $(IMPORT_ARGS)
	$(BIN)/python tests/benchmarks/bench_export.py $(EXPORT_ARGS)
	$(BIN)/python tests/benchmarks/bench_money.py $(MONEY_ARGS)

# locust: 50 simulated staff for 5 minutes on each engine (PostgreSQL, then SQLite), 127.0.0.1 only;
# fails on any error. Shorter: LOADTEST_ARGS="--minutes 1 --users 10 --customers 10000".
loadtest: $(BIN)/activate
	$(BIN)/python tests/load/run.py $(LOADTEST_ARGS)

lint: $(BIN)/activate
	$(BIN)/ruff check webapp tests

clean:
	rm -rf $(VENV) .cache
