# Gridwatch. `make run` starts everything; `make test` installs what tests need and runs them.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements.stamp
DEV    := $(VENV)/.requirements-dev.stamp
# What touches a database, run a second time on PostgreSQL: every integration test, and the browser tests whose
# pages write (alerts, cases, reports, two web processes) or read SQL aggregates (the leader's charts). unit/ and
# geo/ are pure by design; the wall and map pages read Redis; benchmark smoke tests bring their own SQLite.
PG_TESTS ?= tests/integration tests/browser/test_multiprocess.py tests/browser/test_duty.py \
	tests/browser/test_cases.py tests/browser/test_report.py tests/browser/test_leader.py

.PHONY: run prod test ci test-faults soak lint format bench bench-memory clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(DEV): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(STAMP)  ## the app with a demo city and live simulated feeds
	$(PY) app.py run

prod: $(STAMP)  ## the production layout on this machine: WEB gunicorn web processes and WORKERS workers (docs/operations.md)
	$(PY) app.py prod --web $(or $(WEB),2) --workers $(or $(WORKERS),2)

test: $(DEV)  ## install what the tests need, then run the whole suite on SQLite, then again on PostgreSQL
	bash scripts/ensure-test-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)
	GW_TEST_DATABASE=postgresql $(PY) -m pytest -m 'not faults and not benchmark' $(PYTEST_ARGS) $(PG_TESTS)

ci: test  ## what .ci/run does: the suite on both databases, then the fault tests and a 3-minute soak
	$(MAKE) test-faults
	$(MAKE) soak DURATION=180 SOAK_ARGS=--report-only

test-faults: $(DEV)  ## kill and pause Redis, workers, the web process and the database under load; prints the figures
	bash scripts/ensure-test-deps.sh
	timeout -k 30 -s INT 480 $(PY) -m pytest tests/faults -m faults -s --timeout=240 $(PYTEST_ARGS)

soak: $(DEV)  ## 5,000 events/s with alerts and browsers on /wall for DURATION seconds (default 600): memory and backlog flat
	bash scripts/ensure-test-deps.sh
	$(PY) -m benchmarks.soak --duration $(or $(DURATION),600) $(if $(RATE),--rate $(RATE)) $(if $(BROWSERS),--browsers $(BROWSERS)) $(SOAK_ARGS)

lint: $(DEV)  ## ruff, mypy --strict, import-linter
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(DEV)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(DEV)  ## throughput beside the raw Redis ceiling; alert latency; map render; Socket.IO fan-out beside the bare stack
	$(PY) -m benchmarks.worker_throughput
	$(PY) -m benchmarks.ingest_scaling
	$(PY) -m benchmarks.http_ingest
	$(PY) -m benchmarks.geo_lookup
	$(PY) -m benchmarks.alert_throughput
	$(PY) -m benchmarks.alert_latency
	$(PY) -m benchmarks.map_render
	$(PY) -m benchmarks.socket_fanout

bench-memory: $(DEV)  ## the JS heap of a /wall page over DURATION seconds of live deltas (default 1800)
	$(PY) -m benchmarks.wall_memory

clean:
	rm -rf $(VENV) var tests/artifacts
