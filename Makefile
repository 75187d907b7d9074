# huiqi — every target sets up what it needs on a fresh machine (Python 3.11/3.12, gcc, make).
# the first interpreter that actually runs and is 3.11 or 3.12 (pyenv shims may exist and refuse)
PYTHON ?= $(shell for p in python3 python3.11 python3.12; do $$p -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13)' 2>/dev/null && command -v $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test lint bench check clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "huiqi needs Python 3.11 or 3.12 (durable-rules does not import on 3.13)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

run: setup
	$(BIN)/huiqi check tests/examples/enterprise-established.json

lint: setup
	$(BIN)/ruff check $(wildcard engine api tests features)
	$(BIN)/huiqi rules lint

test: setup lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python tests/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis var
