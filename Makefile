# SilkVote — the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTERNAL_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
EXTERNAL_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install run test test-embedded test-external lint browser promtool kannel bench drills fonts clean

## dev = the embedded stores (`make run`, the suite) + the bench + the test tools.
## uv resolves and installs the dev tools in about 15 s where pip took 76 s on a slow
## CI host: a minute of the 15 that `make test` may take. pip stays in the venv.
$(STAMP): pyproject.toml setup.py
	@echo "==> creating $(VENV) and installing SilkVote with its dev tools"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: embedded PostgreSQL + Redis-compatible server, migrations, demo contest, serve.
run: install
	$(BIN)/silkvote up

## make test: lint + the whole suite on embedded stores, then again on the machine's
## PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set or the default ports answer.
test: install browser promtool nginx kannel lint test-embedded test-external

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy scoring service

## Both passes run on two pytest workers, a test file each at a time (a file's tests
## share their module's servers). In the embedded pass every worker starts stores of
## its own; in the external pass each takes a database of its own on the machine's
## PostgreSQL and a Redis database number of its own (tests/harness/stores.py).
## Not three: on a slow 2-core host (sum(range(1000)) in 28 µs) three took 587-783 s for
## the embedded pass and 238 s for the external one, two 633-654 s and 159 s.
TEST_WORKERS ?= 2

test-embedded: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

test-external: install
	@if $(BIN)/python -m tests.harness.probe "$${DATABASE_URL:-$(EXTERNAL_DATABASE_URL)}" "$${REDIS_URL:-$(EXTERNAL_REDIS_URL)}"; then \
	  echo "==> suite against external PostgreSQL and Redis"; \
	  DATABASE_URL="$${DATABASE_URL:-$(EXTERNAL_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(EXTERNAL_REDIS_URL)}" \
	    $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile; \
	else echo "==> external PostgreSQL/Redis not answering: external run skipped"; fi

## Debian's Chromium for the browser tests (Playwright's own download does not work here).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing Debian's chromium for browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium could not be installed: browser tests will be skipped"; \
	fi

## promtool (Debian's prometheus package) checks deploy/prometheus/ in tests/deploy/.
## No recommends (node-exporter); only promtool is used, not the server it packages.
promtool:
	@if ! command -v promtool >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing Debian's prometheus package for promtool (alert rule checks)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends prometheus >/dev/null) \
	    || echo "promtool could not be installed: alert rule checks will be skipped"; \
	fi

## nginx (Debian's package) runs deploy/nginx-cache.conf in front of a served app in
## tests/deploy/test_nginx_cache.py. No recommends; the package's own service is not used.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ] && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing Debian's nginx for the results-cache test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends nginx >/dev/null) \
	    || echo "nginx could not be installed: the results-cache test will be skipped"; \
	fi

## Kannel (Debian's kannel + kannel-extras for fakesmsc) is the real SMS gateway of
## tests/sms/test_kannel_gateway.py: bearerbox + smsbox + fakesmsc on loopback.
## No recommends; the package's own service is not used.
kannel:
	@if [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/lib/kannel/test/fakesmsc ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing Debian's kannel and kannel-extras for the SMS gateway test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends kannel kannel-extras >/dev/null) \
	      || echo "kannel could not be installed: the SMS gateway test will be skipped"; \
	  fi; \
	fi

## ab (Debian's apache2-utils) drives loadtests/bench/results_cache.py, with nginx.
bench-tools: nginx
	@if ! command -v ab >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "==> installing Debian's apache2-utils for ab"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends apache2-utils >/dev/null) \
	    || echo "ab could not be installed: loadtests/bench/results_cache.py needs it"; \
	fi

bench: install
	$(BIN)/python -m loadtests.bench

## make drills: every fault drill (tests marked `drill`: real processes and stores on
## loopback, each bounded), then one table of their figures (test-artifacts/drills/).
## `make test` runs the same drills as part of the suite; this is the operator's view.
drills: install
	@rm -rf test-artifacts/drills
	@env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest -q -m drill; \
	  status=$$?; echo; $(BIN)/python -m tests.reliability.drill_report || status=1; exit $$status

## make fonts: refresh the bundled Noto fonts (service/web/static/fonts/) from npm's
## Fontsource packages; the committed files serve the pages, so only a refresh needs npm.
fonts: install
	$(BIN)/python -m service.web.vendor_fonts

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
