# The two commands of the Quick start: `make up` and `make test`. Both install what they need.
SHELL := /bin/bash
UV ?= python3 -m uv
# uidmap: newuidmap/newgidmap, for rootless buildah as the build user (services/builder/README.md)
APT_PACKAGES := bubblewrap buildah uidmap git openssh-client wrk iproute2 nftables
PYTEST_ARGS ?=
# Most tests wait on real servers and subprocesses, so a few workers help even on 2 cores;
# loadscope keeps each module (and its module-scoped fixtures) on one worker. The suites that start a
# whole platform (ports, supervisord, every service) run afterwards on their own, one at a time.
PYTEST_WORKERS ?= 3
PLATFORM_SUITES := tests/platform tests/e2e
PYTEST := $(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadscope
PYTEST_SERIAL := $(UV) run --frozen pytest -p no:xdist

.PHONY: up down status test lint typecheck contracts unit e2e bench deps system-deps uv

uv:
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

deps: uv system-deps
	$(UV) sync --all-packages --frozen

up: deps
	$(UV) run --frozen deis-platform up

down:
	$(UV) run --frozen deis-platform down

status:
	$(UV) run --frozen deis-platform status

lint: deps
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check libs/deis_common

typecheck: deps
	$(UV) run --frozen mypy libs/deis_common/src
	$(UV) run --frozen mypy services/controller/src services/builder/src services/scheduler/src \
	  services/router-sync/src services/backup/src libs/deis_cli/src deploy/local/src

contracts: deps
	$(UV) run --frozen lint-imports

unit: deps
	$(PYTEST) -m "not e2e" $(foreach d,$(PLATFORM_SUITES),--ignore=$(d)) $(PYTEST_ARGS)
	$(PYTEST_SERIAL) -m "not e2e" tests/platform $(PYTEST_ARGS)

e2e: deps
	$(PYTEST_SERIAL) -m e2e tests/e2e $(PYTEST_ARGS)

test: lint typecheck contracts
	$(PYTEST) $(foreach d,$(PLATFORM_SUITES),--ignore=$(d)) $(PYTEST_ARGS)
	$(PYTEST_SERIAL) $(PLATFORM_SUITES) $(PYTEST_ARGS)

bench: deps
	$(UV) run --frozen python -m bench
