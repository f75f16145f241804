# The two commands a newcomer needs: `make run` and `make test`.
# Each one creates .venv and installs what it needs on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check install clean bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## Run the system on its embedded defaults (Temporal dev server + worker; demo on an empty home).
run: $(STAMP)
	$(BIN)/towns server --demo-if-empty

## Run the whole test suite (SQLite and PostgreSQL; time-skipping Temporal server; real processes for
## the fault tests), three at a time: most of the time is spent waiting on servers, not on the CPU.
test: $(STAMP) check
	scripts/ensure-chromium
	$(BIN)/python -m pytest -q -n 3 --dist worksteal

## The layers, lint, format and types (part of `make test`).
check: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check towns tests
	$(BIN)/ruff format --check towns tests
	$(BIN)/mypy

## Speed, each figure beside its limit measured in the same run (bench/README.md): N = 1,000 towns,
## under 10 minutes on 2 cores; prints a table, writes bench/results.json. `make bench ARGS="--quick"`.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis   # your data stays in TOWNS_HOME (~/.local/share/towns)
