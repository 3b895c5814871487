SHELL := /bin/bash
# Mufakat — build, test and demo entry points.
#
#   make demo    build and run the demo: a hub and three offline replicas converging
#   make test    install missing system libraries, build, run every test
#   make build   debug build of everything, tests included

SWIFT ?= swift
SYSTEM_PACKAGES := libsqlite3-dev zlib1g-dev sqlite3
TEST_LOG := .build/test-output.log

.PHONY: all deps build build-products demo test clean

all: build

# Installs the C libraries the package links against when they are missing. As root
# (CI, containers) through apt-get; otherwise through sudo when there is one; when they
# are already present nothing is asked of anyone.
deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "deps: $(SYSTEM_PACKAGES) present"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "deps: missing$$missing and no apt-get here; install them with your package manager" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "deps: missing$$missing; run 'apt-get install$$missing' as root" >&2; exit 1; fi; \
	echo "deps: installing$$missing"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing

build: deps
	$(SWIFT) build --build-tests

build-products: deps
	$(SWIFT) build --product mufakat
	$(SWIFT) build --product mufakat-hub

# A hub and three field offices on this machine: offline edits, conflicts, resolution,
# convergence. Everything lives in a temporary folder that is removed afterwards.
demo: build-products
	BIN=$$($(SWIFT) build --show-bin-path) scripts/demo.sh

# Runs every test target, then prints one closing line that counts them.
test: build
	@mkdir -p .build
	@set -o pipefail; $(SWIFT) test --skip-build 2>&1 | tee $(TEST_LOG)
	@count=$$(grep -Eo 'Test run with [0-9]+ tests?' $(TEST_LOG) | tail -1 | grep -Eo '[0-9]+'); \
	echo "unit tests: $${count:-0} passed, 0 failed"

clean:
	rm -rf .build
