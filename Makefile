# deltashare build, test and benchmark targets. `make help` lists them.
GO       ?= go
BIN      ?= bin/deltashare
PKGS     ?= ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: help build image test test-short lint vet fmt-check staticcheck bench bench-go demo clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/deltashare
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/deltashare

# The container image (Dockerfile) with docker, or podman when docker is absent. Not run by CI.
IMAGE    ?= deltashare:$(VERSION)
image: ## build the container image (IMAGE=deltashare:VERSION) with docker or podman
	@engine=$$(command -v docker || command -v podman); \
	if [ -z "$$engine" ]; then echo "make image: neither docker nor podman is installed: install one of them, or use make build for a local binary" >&2; exit 1; fi; \
	echo "$$engine build --build-arg VERSION=$(VERSION) -t $(IMAGE) ."; \
	"$$engine" build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

# Tests that need ../shared/testdata skip without it (CI sets DELTASHARE_REQUIRE_SHARED=1 to fail
# them instead): internal/sharedtest records each skip in DELTASHARE_SHARED_SKIPLOG, and test
# prints how many there were.
test: lint ## vet, gofmt check, staticcheck, then every test with the race detector
	@skips=$$(mktemp); export DELTASHARE_SHARED_SKIPLOG=$$skips; \
	echo "$(GO) test -race -count=1 $(PKGS)"; $(GO) test -race -count=1 $(PKGS); rc=$$?; \
	n=$$(wc -l < $$skips | tr -d ' '); rm -f $$skips; \
	if [ "$$n" -gt 0 ]; then echo "make test: $$n tests skipped: ../shared/testdata not found beside the project (or missing tables in it); DELTASHARE_REQUIRE_SHARED=1 makes that an error"; fi; \
	exit $$rc

test-short: ## quick tests without the race detector
	$(GO) test -short -count=1 $(PKGS)

lint: vet fmt-check staticcheck ## go vet, gofmt check and staticcheck

vet:
	$(GO) vet $(PKGS)

# staticcheck at a pinned version (go run fetches it through the module proxy; nothing in go.mod).
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.6.1
staticcheck:
	$(GO) run $(STATICCHECK) $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# make bench settings (docs/performance.md): BENCH_ROWS (default 10000000), BENCH_LARGE=1 (also a
# 4x table: slow, ~1.5 GB more disk), BENCH_REPEAT (3), BENCH_FORMATS, BENCH_TABLES, BENCH_DUCKDB=0,
# BENCH_SHAPES (small,wide,point,parallel), BENCH_SMALL_FILES, BENCH_WIDE_COLS, BENCH_SWEEP.
BENCH_FLAGS ?=

bench: ## exports through our server vs DuckDB: rows/s, MB/s, peak RSS (docs/performance.md)
	GO=$(GO) $(GO) run ./cmd/deltashare-bench -bin $(BIN) $(BENCH_FLAGS)

bench-go: ## Go micro-benchmarks (go test -bench)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

demo: build ## run the embedded demo: our server on loopback, activation, listing, export
	$(BIN) demo

clean:
	rm -rf bin deltashare-demo

# The fault and abuse suite, long form (docs/reliability.md): the fault tests with the load test
# running LOAD_DURATION, then every fuzz target for FUZZTIME each. `make test` runs the short form.
FUZZTIME      ?= 20s
LOAD_DURATION ?= 30s
FAULT_TESTS   := Fault|FailureLeaves|EncoderErrorsNameTheFile|Transient|Permanent|Interrupt|BadProfiles|BadTable|FlagsOutOfRange|MalformedActivation|Unwritable|ConcurrentClients|RequestBounds|DecoderCutLine|DecoderMaxLine|ResponseBounds|CorruptCompressedPage|AuthOnEveryRoute|SignedURL|Rules|SkipTimes|SlowBody|KilledRun|PausedPastLockTTL|UpToDateStillCleans|LockOfAnotherHost|BreakLock|Damaged
FUZZ_TARGETS  := ./sharing:FuzzParseProfile ./sharing/protocol:FuzzDecodeLine ./sharing/delta:FuzzParsePartitionValue \
	./sharing/delta:FuzzZ85Decode ./sharing/delta:FuzzParseRoaringBitmapArray ./sharing/reader:FuzzDeletionVectorDescriptor ./sharing/reader:FuzzReadParquet \
	./sharing/predicate:FuzzParse ./sharing/predicate:FuzzParseJSON ./sharing/delta:FuzzParseSchema \
	./sharing/server:FuzzParseFilePath ./sharing/server:FuzzPageToken ./sharing/server:FuzzParseConfig \
	./sharing/server:FuzzTableToken ./sharing/server:FuzzRequests \
	./tokenmgr/databricks:FuzzKeyValue ./tokenmgr:FuzzParseActivationLink ./tokenmgr:FuzzActivationResponse

.PHONY: test-faults fuzz
test-faults: ## fault/abuse suite, long form: load test for LOAD_DURATION, each fuzz target for FUZZTIME
	DELTASHARE_LOAD_DURATION=$(LOAD_DURATION) $(GO) test -race -count=1 -run '$(FAULT_TESTS)' \
		./internal/faultproxy ./sharing/... ./cmd/deltashare ./export
	$(MAKE) --no-print-directory fuzz

fuzz: ## run every fuzz target for FUZZTIME each
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; done
