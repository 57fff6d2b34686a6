# swift-vta: build, test, demo and benchmark entry points.
#
#   make demo         release build, then vtad on the simulator with a matmul client (scripts/demo.sh)
#   make test         unit/integration tests (swift test), then the conformance suite under both
#                     simulator profiles; exits non-zero on any failure (this is what CI runs)
#   make build        debug build            make release    release build
#   make bench        simulator perf workloads (vtactl bench sim)
#   make bench-swift  ordo-one/benchmark suite in Benchmarks/, with ratios against baselines
#   make deps         install missing Debian build packages (as root), check for Swift
#   make install-libvta  build libvta.so (release) and install it with its headers under PREFIX
#   make clean        remove build products
#
# Variables: CONFORMANCE (default ../shared/conformance), SWIFT (default swift),
#            SWIFT_BUILD_FLAGS (extra flags for swift build/test), TEST_TIMEOUT (default 40m),
#            PREFIX (install-libvta, default /usr/local).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

# Our machines keep the toolchain in /opt/swift; elsewhere swift must already be on PATH.
SWIFT_BIN_DIR ?= /opt/swift/usr/bin
ifneq ($(wildcard $(SWIFT_BIN_DIR)/swift),)
export PATH := $(SWIFT_BIN_DIR):$(PATH)
endif

SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
CONFORMANCE ?= ../shared/conformance
TEST_TIMEOUT ?= 40m
BENCH_RUNS ?= 9
BENCH_RESULTS := Benchmarks/.build/benchmark-results
PREFIX ?= /usr/local

.PHONY: all deps build release test demo bench bench-swift clean check-conformance install-libvta

all: build

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

release: deps
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)

# libvta: the C ABI of TVM's VTA driver and runtime (docs/c-api.md).
install-libvta: deps
	SWIFT="$(SWIFT)" SWIFT_BUILD_FLAGS="$(SWIFT_BUILD_FLAGS)" scripts/install-libvta.sh "$(PREFIX)"

check-conformance:
	@[ -d "$(CONFORMANCE)/programs" ] || { echo "conformance data not found at $(CONFORMANCE) (set CONFORMANCE=DIR)" >&2; exit 1; }

# Runs every stage even after a failure, so one run shows everything that is wrong; the exit
# status is non-zero if any stage failed.
test: deps check-conformance
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	@status=0; \
	timeout --kill-after=30s $(TEST_TIMEOUT) $(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS) || status=1; \
	bin=$$($(SWIFT) build --show-bin-path $(SWIFT_BUILD_FLAGS)); \
	echo "== scripts/verify-units.sh (systemd-analyze verify of systemd/)"; \
	scripts/verify-units.sh || status=1; \
	for profile in fsim hardware; do \
		echo "== vtactl conformance --profile $$profile $(CONFORMANCE)"; \
		"$$bin/vtactl" conformance --profile $$profile "$(CONFORMANCE)" || status=1; \
	done; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)" >&2; fi; \
	exit $$status

demo: release
	BIN="$$($(SWIFT) build -c release --show-bin-path $(SWIFT_BUILD_FLAGS))" \
		CONFORMANCE="$(CONFORMANCE)" scripts/demo.sh

bench: release check-conformance
	"$$($(SWIFT) build -c release --show-bin-path $(SWIFT_BUILD_FLAGS))/vtactl" bench sim --runs $(BENCH_RUNS) "$(CONFORMANCE)/perf"

# The benchmark package needs Swift 6.3 (ordo-one/benchmark 1.38 on Linux) and builds its own copy
# of the root package in release mode: slow on 2 cores, so it is kept out of `make test`.
# VTA_SIM_THREADS=1 makes the simulator single-threaded, like the baselines.
bench-swift: release check-conformance
	@v=$$($(SWIFT) --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n 1); \
	set -- $$v; if [ -n "$$v" ] && [ $$(( $$1 * 100 + $$2 )) -lt 603 ]; then \
		echo "bench-swift: the benchmark package needs Swift 6.3 or newer (found $$1.$$2)" >&2; exit 1; fi
	rm -rf $(BENCH_RESULTS)
	vtad="$$($(SWIFT) build -c release --show-bin-path $(SWIFT_BUILD_FLAGS))/vtad"; \
	cd Benchmarks && VTA_CONFORMANCE_DIR="$(abspath $(CONFORMANCE))" VTAD="$$vtad" \
		$(SWIFT) package --allow-writing-to-package-directory benchmark \
		--no-progress --format jmh --path "$(abspath $(BENCH_RESULTS))"
	python3 scripts/bench-ratios.py $(BENCH_RESULTS)/*.jmh.json

clean:
	$(SWIFT) package clean
	rm -rf Benchmarks/.build
