# clusterconsole: every command installs what it needs first (Debian packages via apt-get, the
# Python environment in .venv), so `make demo` and `make test` work on a fresh Debian 12 machine.
# gcc and python3-dev build the log scanner's small C helper (probes/logs/_lines.c).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
DEB_PACKAGES := apache2 tomcat10 tomcat10-admin openssh-server openssh-client mariadb-server mariadb-client \
	rsync haproxy socat nginx-light libjgroups-java python3 python3-venv python3-pip python3-dev gcc tmux curl procps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint unit bench clean deps venv

## Open the console on the local sandbox cluster (installs and starts everything it needs).
demo: venv
	$(VENV)/bin/clusterconsole sandbox up
	$(VENV)/bin/clusterconsole --sandbox

## ruff, mypy and the whole test suite, sandbox integration tests included. Two workers: the
## shared sandbox's tests on one, variant sandboxes, unit and screen tests spread over both.
test: lint
	$(VENV)/bin/pytest -q -ra -n 2 --dist loadgroup --durations=25

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

## Only the tests that need no sandbox.
unit: venv
	$(VENV)/bin/pytest -q -m "not sandbox"

## Benchmarks: JSON results in bench-results/, summarised in BENCHMARKS.md.
bench: venv
	mkdir -p bench-results
	$(PY) -m tests.bench.run --out bench-results

## Debian packages: install only the missing ones.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

venv: deps $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py probes/logs/_lines.c probes/logs/_scan.c probes/logs/_records.c probes/logs/_teddy.c probes/logs/_lines.h
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

clean:
	-test -x $(VENV)/bin/clusterconsole && $(VENV)/bin/clusterconsole sandbox down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache bench-results *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find probes -name '_lines*.so' -delete
