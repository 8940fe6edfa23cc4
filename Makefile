# The two commands of the README, and the rest of the development loop.
#
#   make run    install what is missing, build (release) and run the daemon on embedded defaults
#   make test   install what is missing, build once, run every test, smoke-run the fuzzers
#
# Both work as root on a fresh Debian 12 with the Swift toolchain on PATH.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
APT_PACKAGES := libzstd-dev liblmdb-dev lmdb-utils zlib1g-dev libssl-dev openssl ca-certificates pkg-config zstd python3 python3-venv systemd
FUZZ_SECONDS ?= 20

.PHONY: deps venvs build release run test test-only fuzz-build fuzz-run fuzz-smoke fuzz bench-json bench-store bench-ingest bench-udp bench-fold bench-lag bench-lookup bench-compact bench-compact-text bench-merge bench-replay bench-replay-tls bench-http bench-otlp clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Python clients the integration tests run, each in a venv of its own, pinned: Langfuse's SDK v2
# (batch ingestion), Langfuse's SDK v5 with OpenTelemetry's SDK and OTLP/HTTP exporter, and
# schemathesis (the API conformance run against Langfuse's OpenAPI spec).
VENV_LANGFUSE2 := .venv/langfuse2
VENV_LANGFUSE5 := .venv/langfuse5
VENV_SCHEMATHESIS := .venv/schemathesis
venvs: deps
	@$(VENV_LANGFUSE2)/bin/python -c "import langfuse" 2>/dev/null || { \
		rm -rf $(VENV_LANGFUSE2) && python3 -m venv $(VENV_LANGFUSE2) && \
		$(VENV_LANGFUSE2)/bin/pip install -q --disable-pip-version-check -r Tests/Clients/requirements-langfuse2.txt; }
	@$(VENV_LANGFUSE5)/bin/python -c "import langfuse, opentelemetry.exporter.otlp.proto.http" 2>/dev/null || { \
		rm -rf $(VENV_LANGFUSE5) && python3 -m venv $(VENV_LANGFUSE5) && \
		$(VENV_LANGFUSE5)/bin/pip install -q --disable-pip-version-check -r Tests/Clients/requirements-langfuse5.txt; }
	@$(VENV_SCHEMATHESIS)/bin/python -c "import schemathesis" 2>/dev/null || { \
		rm -rf $(VENV_SCHEMATHESIS) && python3 -m venv $(VENV_SCHEMATHESIS) && \
		$(VENV_SCHEMATHESIS)/bin/pip install -q --disable-pip-version-check -r Tests/Clients/requirements-schemathesis.txt; }

build: deps
	swift build

release: deps
	swift build -c release --product wick

run: release
	.build/release/wick serve

test: deps
	@scripts/timed "python clients (venvs)" $(MAKE) --no-print-directory venvs
	@scripts/timed "build (debug, with tests)" swift build --build-tests $(SWIFT_FLAGS)
	@scripts/timed "tests" swift test --skip-build --no-parallel $(SWIFT_FLAGS)
	@scripts/timed "fuzzers: build" $(MAKE) --no-print-directory fuzz-build
	@scripts/timed "fuzzers: smoke run" $(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SECONDS)

# Serially: many tests run real daemons, sockets and child processes, and waiting on them in
# parallel on a 2-core machine starves Swift's cooperative pool (it is also faster here).
test-only: venvs
	swift test --skip-build --no-parallel $(SWIFT_FLAGS)

# libFuzzer builds need both sanitizer flags (either alone gives a fuzzer that does nothing), in a
# build directory of their own so they do not invalidate the normal one. docs/fuzzing.md explains.
FUZZ_BUILD := swift build --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address

fuzz-build: deps
	$(FUZZ_BUILD) --product FuzzJSONScanner 2>&1 | { grep -v 'ld.gold: warning' || true; }
	$(FUZZ_BUILD) --product FuzzSegmentReader 2>&1 | { grep -v 'ld.gold: warning' || true; }
	test -x .build-fuzz/debug/FuzzJSONScanner && test -x .build-fuzz/debug/FuzzSegmentReader

fuzz-run:
	scripts/fuzz FuzzJSONScanner json $(FUZZ_SECONDS)
	scripts/fuzz FuzzSegmentReader segment $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build fuzz-run

fuzz: fuzz-build
	$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=600

bench-json bench-store bench-ingest bench-udp bench-fold bench-lag bench-lookup bench-compact bench-compact-text bench-merge bench-replay bench-replay-tls bench-http bench-otlp: deps
	scripts/bench $(@:bench-%=%)

clean:
	rm -rf .build .build-fuzz .build-release
