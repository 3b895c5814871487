SHELL := /bin/bash
# Mufakat — build, test and demo entry points.
#
#   make demo    build and run the demo: a hub and three offline replicas converging
#   make test    install missing system libraries, build, run every test
#   make bench   release build, every benchmark, table on stdout and bench-results/latest.json
#   make fuzz    libFuzzer on the frame decoder and record parser for FUZZ_SECONDS (60)
#   make build   debug build of everything, tests included

SWIFT ?= swift
SYSTEM_PACKAGES := libsqlite3-dev zlib1g-dev sqlite3 openssl faketime
TEST_LOG := .build/test-output.log
SCENARIO_LOG := .build/scenario-output.log

.PHONY: all deps browser-deps build build-products demo test compose-check fuzz bench clean

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

# Debian's chromium, for the dashboard's browser tests (scenario 23), installed like deps.
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "browser-deps: chromium missing and no apt-get here; install chromium" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "browser-deps: chromium missing; run 'apt-get install chromium' as root" >&2; exit 1; fi; \
	echo "browser-deps: installing chromium"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null

build: deps
	$(SWIFT) build --build-tests

build-products: deps
	$(SWIFT) build --product mufakat
	$(SWIFT) build --product mufakat-hub

# A hub and three field offices on this machine: offline edits, conflicts, resolution,
# convergence. Everything lives in a temporary folder that is removed afterwards.
demo: build-products
	BIN=$$($(SWIFT) build --show-bin-path) scripts/demo.sh

# Every unit test, then the process-level scenarios, then the compose file check; one
# closing line counts them all. SCENARIO_SEEDS=N runs more random schedules.
test: build browser-deps
	@mkdir -p .build
	@set -o pipefail; $(SWIFT) test --skip-build 2>&1 | tee $(TEST_LOG)
	@count=$$(grep -Eo 'Test run with [0-9]+ tests?' $(TEST_LOG) | tail -1 | grep -Eo '[0-9]+'); \
	echo "unit tests: $${count:-0} passed, 0 failed"
	@set -o pipefail; BIN=$$($(SWIFT) build --show-bin-path) scripts/run-scenarios.sh 2>&1 | tee $(SCENARIO_LOG)
	@$(MAKE) --no-print-directory compose-check
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@unit=$$(grep -Eo 'Test run with [0-9]+ tests?' $(TEST_LOG) | tail -1 | grep -Eo '[0-9]+'); \
	scenarios=$$(sed -n 's/^scenarios: \([0-9]*\) passed.*/\1/p' $(SCENARIO_LOG)); \
	echo "all: $$((unit + scenarios + 2)) passed, 0 failed"

# Validates docker-compose.yml with a real compose parser (Debian's docker-compose); no
# Docker engine is needed for that.
compose-check:
	@if ! command -v docker-compose >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
	  else echo "compose-check: install docker-compose (apt-get install docker-compose)" >&2; exit 1; fi; fi
	@docker-compose -f docker-compose.yml config -q
	@services=$$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' '); \
	test "$$services" = "client-iom client-save-the-children client-unicef hub " || { echo "compose-check: services are $$services" >&2; exit 1; }; \
	echo "compose-check: docker-compose.yml is valid (hub + 3 clients)"
	@docker-compose -f deploy/docker-compose.yml config -q
	@test "$$(docker-compose -f deploy/docker-compose.yml config --services)" = "hub" || { echo "compose-check: deploy/docker-compose.yml must hold the hub only" >&2; exit 1; }
	@prod=$$(docker-compose -f deploy/docker-compose.yml config); for want in "restart: unless-stopped" "healthcheck:" "hub-data:"; do \
	  grep -q "$$want" <<<"$$prod" || { echo "compose-check: deploy/docker-compose.yml lacks $$want" >&2; exit 1; }; done
	@echo "compose-check: deploy/docker-compose.yml is valid (hub only, restart policy, volume, healthcheck)"
	@if command -v systemd-analyze >/dev/null 2>&1; then \
	  unit=$$(mktemp -d)/mufakat-hub.service; \
	  sed "s|/usr/local/bin/mufakat-hub|$$($(SWIFT) build --show-bin-path)/mufakat-hub|" deploy/mufakat-hub.service >"$$unit"; \
	  if out=$$(systemd-analyze verify "$$unit" 2>&1); then echo "compose-check: deploy/mufakat-hub.service passes systemd-analyze verify"; \
	  elif grep -q "mufakat-hub.service" <<<"$$out"; then echo "$$out" >&2; exit 1; \
	  else echo "compose-check: systemd-analyze could not run here ($$(head -1 <<<"$$out")); unit not verified"; fi; \
	else echo "compose-check: systemd-analyze not installed; deploy/mufakat-hub.service not verified"; fi

# Fuzzes the frame decoder (with inflation), the header check and the record parser
# (Sources/MufakatFuzzing) with libFuzzer (the toolchain's libclang_rt.fuzzer_no_main, driven
# from our own main) under AddressSanitizer for FUZZ_SECONDS, from a corpus made of
# protocol/vectors and its fuzz/ regression inputs; a crash or a broken property fails it
# and leaves the input in .build-fuzz/artifacts/ (add it to protocol/vectors/fuzz/). Where
# the toolchain has no libFuzzer, the plain driver mutates the same corpus.
FUZZ_SECONDS ?= 60
# make test fuzzes for less: its clean-clone run must stay well inside CI's time.
TEST_FUZZ_SECONDS ?= 30
FUZZ_BUILD := .build-fuzz
fuzz: deps
	@rm -rf $(FUZZ_BUILD)/seeds && mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts
	@python3 scripts/fuzz-corpus.py $(FUZZ_BUILD)/seeds
	@lib=$$(ls $$(dirname $$(command -v swiftc))/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -1); \
	if [ -n "$$lib" ] && $(SWIFT) build --scratch-path $(FUZZ_BUILD) --product mufakat-fuzz -Xswiftc -DFUZZING \
	    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
	    -Xlinker "$$lib" -Xlinker -lstdc++ >$(FUZZ_BUILD)/build.log 2>&1; then \
	  echo "fuzz: libFuzzer, $(FUZZ_SECONDS) s"; \
	  SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/debug/mufakat-fuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/seeds 2>$(FUZZ_BUILD)/fuzz.log; status=$$?; \
	  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)|==ERROR|SUMMARY|Fatal error|Test unit written' $(FUZZ_BUILD)/fuzz.log; \
	  test $$status = 0 || { echo "fuzz: failed; the input is in $(FUZZ_BUILD)/artifacts/ (log: $(FUZZ_BUILD)/fuzz.log)" >&2; exit 1; }; \
	else \
	  echo "fuzz: no libFuzzer build here (see $(FUZZ_BUILD)/build.log); plain driver, $(FUZZ_SECONDS) s"; \
	  $(SWIFT) build --product mufakat-fuzz && $$($(SWIFT) build --show-bin-path)/mufakat-fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_BUILD)/seeds; \
	fi

# Benchmarks report; they never fail the build. BENCH_LARGE=1 adds 1,000,000-record sizes.
bench: deps
	$(SWIFT) build -c release
	@mkdir -p bench-results
	$$($(SWIFT) build -c release --show-bin-path)/mufakat-bench --json bench-results/latest.json

clean:
	rm -rf .build .build-fuzz
