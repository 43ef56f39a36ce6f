# pcapload: `make run` loads the captures in testdata/ into the embedded
# database and prints the first look; `make test` runs every test.

GO       ?= go
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/pcapload
RUN_DIR  := out/run
# Fuzz budgets are execution counts, not durations: with a duration, Go 1.26's
# fuzz coordinator can fail a target with "context deadline exceeded" as the
# time runs out (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 1000000x

# The embedded ClickHouse engine, fetched once into a cache outside the repo.
CHDB_LIB = $(shell scripts/fetch-chdb.sh)
DUCKDB = $(shell scripts/fetch-duckdb.sh)

.PHONY: all build chdb tools run test fuzz bench lint golden cover clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/pcapload

chdb:
	@scripts/fetch-chdb.sh >/dev/null

# tools installs what the tests compare against: tshark, the reference decoder;
# and what rotate's live test needs: ip (iproute2) for its network namespace.
tools:
	@command -v tshark >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tshark >/dev/null; }
	@command -v ip >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
	@command -v xz >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xz-utils >/dev/null; }

# run loads testdata/'s generated resolver captures into a fresh embedded
# database and a Parquet export,
# then prints what an analyst looks at first.
run: build chdb
	@rm -rf $(RUN_DIR)
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) $(BIN) load --db $(RUN_DIR)/pcapload.db \
		--to db --to parquet:$(RUN_DIR)/parquet --sensor testdata 'testdata/resolver*'
	@echo
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) $(BIN) report --db $(RUN_DIR)/pcapload.db

# test runs every test under the race detector, with the engine and the tools
# the tests need, then a short run of every fuzz test.
test: chdb tools lint
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) PCAPLOAD_DUCKDB=$(DUCKDB) $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz FUZZTIME=100000x

# fuzz runs each native fuzz test for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			out=$$($(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
		done; \
	done

# bench runs the Go benchmarks, then measures the built command end to end
# (internal/benchtab) and prints the markdown table of the speed targets (issue #6).
# BENCH_SIZES (capture sizes in packets) and BENCH_RUNS (runs of each stage,
# medians reported) shorten or lengthen it; BENCH_FLAGS passes any other
# benchtable flag.
BENCH_SIZES ?= 100000,1000000,10000000
BENCH_RUNS  ?= 3
BENCH_FLAGS ?=

bench: build chdb tools
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) $(GO) test -run '^$$' -bench . -benchmem -count 3 -timeout 30m ./load ./parquet ./ingest/... ./clickhouse/... ./rotate/... ./cmd/rotate/...
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) $(GO) run ./internal/benchtab/cmd/benchtable -pcapload $(BIN) \
		-sizes $(BENCH_SIZES) -runs $(BENCH_RUNS) $(BENCH_FLAGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

golden:
	$(GO) test ./schema -run Golden -update
	$(GO) test ./internal/gen -run Testdata -update

cover:
	PCAPLOAD_CHDB_LIB=$(CHDB_LIB) $(GO) test -coverprofile=out/cover.out ./... && $(GO) tool cover -func=out/cover.out | tail -1

clean:
	rm -rf bin out
