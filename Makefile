# Two commands on a fresh machine with only python3 and make: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest soak fuzz bench install clean help chromium web

help:
	@echo "make demo   - run the daemon on the simulated modem and show a handset getting its code and reply"
	@echo "make test   - lint, type-check and run the whole test suite (bounded soak/fuzz)"
	@echo "make soak   - the full soak and fuzz runs (slow)"
	@echo "make bench  - run every benchmark and print a table"
	@echo "make install - install under /opt/smsd with the systemd unit (root)"

PG_INITDB := /usr/lib/postgresql/15/bin/initdb

# The store's tests also run on a throwaway PostgreSQL cluster (smsd/testing/pgcluster.py).
$(PG_INITDB):
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL 15 server missing: sudo apt-get install postgresql" >&2; exit 1; fi

PGBOUNCER := /usr/sbin/pgbouncer

# tests/test_pgbouncer.py runs the store through pgbouncer 1.18 (smsd/testing/pgbouncer.py).
$(PGBOUNCER):
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq pgbouncer >/dev/null; \
	else echo "pgbouncer missing: sudo apt-get install pgbouncer" >&2; exit 1; fi

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/smsd demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser test drives Debian's chromium (never `playwright install`); CI runs as root.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update && apt-get install -y --no-install-recommends chromium

chromium: $(CHROMIUM)

pytest: $(STAMP) $(CHROMIUM) $(PG_INITDB) $(PGBOUNCER)
	$(BIN)/pytest

# pytest exits 5 when it collected nothing: make treats any non-zero exit as failure.
test: lint typecheck pytest

soak: $(STAMP)
	SMSD_SOAK=full HYPOTHESIS_PROFILE=long $(BIN)/pytest -m slow --timeout=0

bench: $(STAMP)
	$(BIN)/python -m benchmarks

install:
	sh systemd/install.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
