# splkit: `make book` runs the whole study and builds the book; `make test` runs the test suite.
# Each target installs what it needs into .venv; the install is redone only when pyproject.toml changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= default

.PHONY: book run test lint format clean benchmark install

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (splkit)" > /dev/null
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/splkit run --profile $(PROFILE)

book: run
	$(BIN)/splkit book --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check splkit tests benchmarks
	$(BIN)/ruff check splkit tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format splkit tests benchmarks
	$(BIN)/ruff check --fix splkit tests benchmarks

benchmark: $(STAMP)
	$(BIN)/python benchmarks/book.py --profile $(PROFILE)

clean:
	rm -rf runs book/_build .pytest_cache
