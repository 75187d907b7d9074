# huiqi — every target sets up what it needs on a fresh machine (Python 3.11/3.12, gcc, make).
# the first interpreter that actually runs and is 3.11 or 3.12 (pyenv shims may exist and refuse)
PYTHON ?= $(shell for p in python3 python3.11 python3.12; do $$p -c 'import sys; assert (3, 11) <= sys.version_info[:2] < (3, 13)' 2>/dev/null && command -v $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup run test lint bench check clean web-assets chromium

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "huiqi needs Python 3.11 or 3.12 (durable-rules does not import on 3.13)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

# the pages' front-end libraries (Bootstrap, ECharts) from the npm registry, into api/web/node_modules
WEB_STAMP := api/web/node_modules/.installed
$(WEB_STAMP): api/web/package.json api/web/package-lock.json
	cd api/web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-assets: $(WEB_STAMP)

# the browser tests drive Debian's Chromium: installed here when absent (as root), else they skip
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Chromium from the distribution's packages"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "no /usr/bin/chromium: the browser tests (tests/web) will be skipped"; fi; }

WORKERS ?= 1
HOST    ?= 127.0.0.1
PORT    ?= 8000

# the HTTP service in the foreground: SQLite under var/ (HUIQI_DATABASE_URL to change), example enterprises loaded
run: setup web-assets
	$(BIN)/python -m api prepare --host $(HOST) --port $(PORT)
	exec $(BIN)/uvicorn api.main:app --host $(HOST) --port $(PORT) --workers $(WORKERS) --no-access-log --no-proxy-headers --timeout-graceful-shutdown 3

lint: setup
	$(BIN)/ruff check $(wildcard engine intake api tests features)
	$(BIN)/huiqi rules lint

# every test on SQLite and on a throwaway PostgreSQL server (tests/with_postgres.sh starts and stops it)
test: setup web-assets chromium lint
	tests/with_postgres.sh $(BIN)/python -m pytest
	# the same policy scenarios once more, against the service over real HTTP (POST /v1/evaluations)
	$(BIN)/python -m pytest features -p no:cacheprovider --huiqi-api=serve

# engine (one core), huiqi screen (all cores), screening through the API on SQLite and on a
# throwaway PostgreSQL (tests/with_postgres.sh), HTTP load on loopback
bench: setup
	$(BIN)/python tests/bench.py
	tests/with_postgres.sh $(BIN)/python tests/bench_screening.py
	$(BIN)/python tests/bench_http.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis var
