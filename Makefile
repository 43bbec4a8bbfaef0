# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint types pytest bench bench-quick clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(STAMP)
	$(BIN)/ketnap demo --if-missing
	@echo
	@echo "Ketnap: http://127.0.0.1:8000  — demo users: secretary, sponsor, officer, auditor, admin (password: ketnap-demo)"
	@echo
	$(BIN)/ketnap serve

lint: $(DEV_STAMP)
	$(BIN)/ruff check workflow web cli tests bench
	$(BIN)/ruff format --check workflow web cli tests bench

types: $(DEV_STAMP)
	$(BIN)/mypy workflow web cli

pytest: $(DEV_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint types pytest

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
