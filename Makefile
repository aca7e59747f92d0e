# Everything a fresh machine with Python 3.11 needs: `make demo` and `make test` create .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: demo test test-sqlite test-postgres bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/telbill demo

test: $(STAMP) test-sqlite test-postgres

test-sqlite: $(STAMP)
	scripts/ensure-tools
	$(BIN)/python -m pytest -n 2

test-postgres: $(STAMP)
	scripts/ensure-postgres
	TELBILL_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n 2 -m db

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) telbill.db .pytest_cache
