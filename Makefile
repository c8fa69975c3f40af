# The two commands of the Quick start: `make up` and `make test`. Both install what they need.
SHELL := /bin/bash
# uv: `python3 -m uv` or `uv` where the machine has it; otherwise a virtualenv of its own under the checkout
# (.tools/), made with the system Python's venv module. Nothing is installed into the system Python:
# Debian's is "externally managed" (PEP 668) and its pip refuses, rightly.
UV_BOOTSTRAP := $(CURDIR)/.tools
ifeq ($(origin UV),undefined)
UV := $(shell if python3 -m uv --version >/dev/null 2>&1; then echo python3 -m uv; \
  elif uv --version >/dev/null 2>&1; then echo uv; else echo $(UV_BOOTSTRAP)/bin/uv; fi)
endif
# What `make up` installs from Debian: everything the platform runs (README: "What make up installs").
# bubblewrap: app and build sandboxes; buildah, uidmap (newuidmap): rootless Dockerfile builds and pulls;
# git: the builder's repositories; openssh-client: `git push` over SSH; iproute2, nftables, util-linux
# (nsenter, unshare, setpriv): sandbox networks and namespaces; tar, gzip: slugs and image root filesystems;
# zstd: build caches (restored on every push);
# python3, python3-venv, python3-pip, nodejs, npm: the bundled buildpacks (and python3 runs the platform);
# ca-certificates: builds fetch their packages over HTTPS.
APT_PACKAGES := bubblewrap buildah uidmap git openssh-client iproute2 nftables util-linux tar gzip zstd \
  python3 python3-venv python3-pip nodejs npm ca-certificates
# What `make test` adds: gcc and libc6-dev (`gcc -static` binaries for FROM-scratch test images),
# openssl (test certificates), wrk (load through the router), docker-registry (the registry cluster-mode
# builds push to, and a private registry deis pull tests pull from) and apache2-utils (htpasswd for it).
APT_TEST_PACKAGES := gcc libc6-dev openssl wrk docker-registry apache2-utils
PYTEST_ARGS ?=
# Most tests wait on real servers and subprocesses, so a few workers help even on 2 cores;
# loadscope keeps each module (and its module-scoped fixtures) on one worker. The suites that start a
# whole platform (ports, supervisord, every service) run afterwards on their own, one at a time.
PYTEST_WORKERS ?= 3
PLATFORM_SUITES := tests/platform tests/e2e
PYTEST := $(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadscope
PYTEST_SERIAL := $(UV) run --frozen pytest -p no:xdist

.PHONY: up down status test lint typecheck contracts unit e2e bench deps system-deps test-system-deps uv \
  fresh-check

# $(call apt-install,<packages>): apt-get installs those of <packages> that are missing, in one go. A package
# counts as present when it is installed or an installed package provides it (NodeSource's nodejs provides
# npm, and conflicts with Debian's). One dpkg-query: next to nothing when everything is there. Without
# Recommends: the lists name what is needed (Recommends would add compilers, an X terminal, node-tap, ...).
define apt-install
@have=$$(dpkg-query -W -f='$${db:Status-Abbrev} $${Package} $${Provides}\n' 2>/dev/null | awk '$$1 == "ii" { \
  print $$2; $$1 = $$2 = ""; n = split($$0, p, ","); for (i = 1; i <= n; i++) { split(p[i], w, " "); print w[1] } }'); \
missing=""; for p in $(1); do grep -qxF "$$p" <<<"$$have" || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  echo "installing system packages:$$missing"; \
  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

system-deps:
	$(call apt-install,$(APT_PACKAGES))

test-system-deps:
	$(call apt-install,$(APT_PACKAGES) $(APT_TEST_PACKAGES))

uv: system-deps
	@if [ "$(UV)" = "$(UV_BOOTSTRAP)/bin/uv" ] && ! [ -x "$(UV_BOOTSTRAP)/bin/uv" ]; then \
	  echo "installing uv into $(UV_BOOTSTRAP)"; \
	  python3 -m venv --clear "$(UV_BOOTSTRAP)" && "$(UV_BOOTSTRAP)/bin/pip" install --quiet uv; \
	fi

deps: system-deps uv
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

unit: deps test-system-deps
	$(PYTEST) -m "not e2e" $(foreach d,$(PLATFORM_SUITES),--ignore=$(d)) $(PYTEST_ARGS)
	$(PYTEST_SERIAL) -m "not e2e" tests/platform $(PYTEST_ARGS)

e2e: deps test-system-deps
	$(PYTEST_SERIAL) -m e2e tests/e2e $(PYTEST_ARGS)

test: test-system-deps lint typecheck contracts
	$(PYTEST) $(foreach d,$(PLATFORM_SUITES),--ignore=$(d)) $(PYTEST_ARGS)
	$(PYTEST_SERIAL) $(PLATFORM_SUITES) $(PYTEST_ARGS)

bench: deps test-system-deps
	$(UV) run --frozen python -m bench

# The Quick start on a fresh Debian 12 root (debootstrap into a folder, as / of its own namespaces: `make up`,
# the first deploy).
# Needs root; slow, so not part of `make test`. deploy/local/fresh-check.sh says what it does.
fresh-check:
	$(call apt-install,debootstrap)
	deploy/local/fresh-check.sh
