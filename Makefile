# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= $(or $(LINDUNG_PORT),5000)

.PHONY: run test test-postgres lint openapi clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres,dev]'
	touch $(STAMP)

## make run: install, migrate the embedded SQLite database, load the demo data, serve on :5000
run: $(STAMP)
	$(BIN)/lindung db upgrade
	$(BIN)/lindung demo
	$(BIN)/lindung serve --port $(PORT)

## make test: the whole suite (SQLite; set LINDUNG_TEST_DATABASE_URL for PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest

test-postgres: $(STAMP)
	LINDUNG_TEST_DATABASE_URL=$${LINDUNG_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

openapi: $(STAMP)
	$(BIN)/lindung openapi write openapi/openapi.json

clean:
	rm -rf $(VENV) instance .pytest_cache
