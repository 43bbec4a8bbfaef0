# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Exactly the locked versions, each file checked against its hash; then Ketnap itself
# (editable, so config.toml beside it is found) without resolving anything again.
LOCKED_INSTALL = $(BIN)/pip install --quiet --require-hashes -r $(1) && $(BIN)/pip install --quiet --no-deps -e .
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

.PHONY: run test test-fast chromium lint types imports pytest pytest-fast lock bench bench-quick clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(call LOCKED_INSTALL,requirements.lock)
	touch $@

$(DEV_STAMP): $(BIN)/python requirements-dev.lock pyproject.toml
	$(call LOCKED_INSTALL,requirements-dev.lock)
	touch $@

run: $(STAMP)
	$(BIN)/ketnap demo --if-missing
	@echo
	@echo "Ketnap: http://127.0.0.1:8000  — demo users: secretary, sponsor, officer, auditor, admin (password: ketnap-demo)"
	@echo
	$(BIN)/ketnap serve

# Everything, as CI runs it: Debian's Chromium is installed first when this user may
# (root or password-less sudo), so the browser tests run rather than skip.
test: chromium lint types imports pytest

# No PostgreSQL server, no browser: the quick loop while working.
test-fast: lint imports pytest-fast

chromium:
	bash .ci/chromium

lint: $(DEV_STAMP)
	$(BIN)/ruff check workflow web cli tests bench
	$(BIN)/ruff format --check workflow web cli tests bench

types: $(DEV_STAMP)
	$(BIN)/mypy workflow web cli

# The layer contracts of pyproject.toml's [tool.importlinter].
imports: $(DEV_STAMP)
	$(BIN)/lint-imports

pytest: $(DEV_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

pytest-fast: $(DEV_STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -m "not postgres and not browser"

# After changing a dependency in pyproject.toml: pin every package, with its hashes.
# Pins already in the files stay; `make lock UPGRADE=--upgrade` takes the newest.
# The dev lock is constrained by the runtime lock, so both pin the same versions.
UPGRADE ?=
lock: $(DEV_STAMP)
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) --output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) --extra dev --constraint requirements.lock \
		--output-file requirements-dev.lock pyproject.toml

bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
