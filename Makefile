# The two set-up commands: `make run` (all-in-one) and `make test` (every test tier).
# Both install what they need: a venv with the Python packages, the Cython build, and, for tests,
# the Debian packages the real clients come from.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.strato-installed
# Debian packages the native build needs (headers of OpenSSL's MD5 and of xxHash), installed before
# the build by both commands; without them the build still succeeds in pure-Python mode.
BUILD_PACKAGES := libssl-dev libxxhash-dev
# Debian packages the tests drive: libiscsi's initiator tools and compliance suite, qemu (iscsi://
# drives and a TCG VM), busybox for that VM's initramfs, wrk for the HTTP benchmarks.
APT_PACKAGES := libiscsi-bin qemu-utils qemu-block-extra qemu-system-x86 busybox-static wrk curl rclone
PYTEST := $(BIN)/python -m pytest
NATIVE_SOURCES := $(wildcard native/*.pyx native/*.pxd native/*.h)

.PHONY: run test test-all test-unit install system-deps apt-install bench clean

run: $(STAMP)
	$(BIN)/strato aio $(ARGS)

# Every tier twice: with the native build, then with the pure-Python twins (STRATO_NO_EXTENSIONS=1).
TIERS := tests/unit tests/integration tests/compat tests/cluster

test: $(STAMP) system-deps
	$(PYTEST) -q -m "not slow" $(TIERS)
	STRATO_NO_EXTENSIONS=1 $(PYTEST) -q -m "not slow" $(TIERS)

# Everything, including the minutes-long suites (1 GiB uploads, peer suites, the VM boot).
test-all: $(STAMP) system-deps
	$(PYTEST) -q tests

test-unit: $(STAMP)
	$(PYTEST) -q tests/unit

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python setup.py pyproject.toml $(NATIVE_SOURCES)
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(BUILD_PACKAGES)"
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/strato version
	touch $(STAMP)

system-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

# Install the Debian packages in PACKAGES that are missing (needs root; apt-get update first).
apt-install:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ] && [ "$$(id -u)" != 0 ]; then \
		echo "warning: not root, cannot install Debian packages: $$missing" >&2; \
	elif [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		apt-get update -q >/dev/null && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	fi

bench: $(STAMP)
	$(PYTEST) benchmarks --benchmark-enable --benchmark-only

clean:
	rm -rf build *.egg-info native/*.so native/_*_c.c
