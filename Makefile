# Setsuna build and test entry points. `make test` is what CI runs.
GO      ?= go
BIN     := bin/setsuna
TOOLS   := $(CURDIR)/.tools
# Pinned code generators for `make proto` (protoc itself: Debian protobuf-compiler 3.21.12).
PROTOC_GEN_GO_VERSION      := v1.36.10
PROTOC_GEN_GO_GRPC_VERSION := v1.5.1
JS_SUITES := conformance/momento-js conformance/cosmos-js conformance/appsync-js

.PHONY: all build vet unit conformance test proto bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/setsuna

vet:
	$(GO) vet ./...
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

# SETSUNA_BIN: tests that run servers as processes use the built binary.
unit: build
	SETSUNA_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./...

# Each suite drives the freshly built binary through an official SDK from npm.
conformance: build
	@for s in $(JS_SUITES); do \
		echo "== conformance: $$s"; \
		( cd $$s && npm ci --no-audit --no-fund --loglevel=error && SETSUNA_BIN=$(CURDIR)/$(BIN) npm test ) || exit 1; \
	done

test: vet unit conformance conformance-cluster python

# The SDK suites once more against two nodes on the redis engine over a
# fresh Redis Cluster (3 primaries + 3 replicas of Debian's redis-server),
# each suite beside a cluster of its own, the traffic split so that every
# test crosses from one node to the other:
#   - momento-js: cache calls go to one node, topic calls to the other
#     (harness.js). The files that need a node of their own (auth, TLS,
#     fault injection, the README) run on the memory engine only.
#   - cosmos-js, every file: writes, control plane and point reads go to node
#     A, change-feed reads to node B (an SDK request plugin in harness.js),
#     the Momento calls of mixed.test.js to node B. None needs a node of its
#     own: auth.test.js signs with the emulator key every node has.
#   - appsync-js, every file: WebSockets (subscriptions) to node A, HTTP
#     (mutations) to node B; graphql-ws mutates on its socket, so it stays on
#     node A. TLS and the API keys are flags that both nodes get, so
#     bad-key.test.js and the TLS transports need no node of their own.
CLUSTER_SUITE := control data cas collections ttl topics leaderboard samples samples-verbatim limits mismatches
CLUSTER := $(GO) run ../../internal/redistest/rediscluster --
conformance-cluster: build
	cd conformance/momento-js && npm ci --no-audit --no-fund --loglevel=error && \
		SETSUNA_BIN=$(CURDIR)/$(BIN) $(CLUSTER) \
		node --test --test-concurrency=1 --test-force-exit $(patsubst %,test/%.test.js,$(CLUSTER_SUITE))
	cd conformance/cosmos-js && npm ci --no-audit --no-fund --loglevel=error && \
		SETSUNA_BIN=$(CURDIR)/$(BIN) $(CLUSTER) npm test
	cd conformance/appsync-js && npm ci --no-audit --no-fund --loglevel=error && \
		SETSUNA_BIN=$(CURDIR)/$(BIN) $(CLUSTER) npm test
.PHONY: conformance-cluster

proto:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto/momento \
		--go_out=proto/momentopb --go_opt=paths=source_relative \
		--go-grpc_out=proto/momentopb --go-grpc_opt=paths=source_relative \
		proto/momento/*.proto

clean:
	rm -rf bin $(TOOLS)

# Benchmarks: Setsuna beside redis-server and nats-server (issue 7). Installs
# missing peers, pins servers to CPU 0 and the load generator to CPU 1, prints
# one table per scenario and writes bench/results/YYYY-MM-DD.md.
# Extra flags: make bench BENCH_FLAGS="--scenarios get-100b --cpuprofile /tmp/cpu.pprof"
bench:
	GO=$(GO) TOOLS=$(TOOLS) bash bench/run.sh $(BENCH_FLAGS)

bench-quick:
	GO=$(GO) TOOLS=$(TOOLS) bash bench/run.sh --quick $(BENCH_FLAGS)
.PHONY: bench-quick

# AppSync subscriptions (issue 14): mutation-to-delivery latency p50/p99 at 1,
# 100 and 1,000 subscribers, Setsuna beside amplify-appsync-simulator (npm ci
# in bench/appsync). Writes bench/results/YYYY-MM-DD-appsync.md.
# Extra flags: make bench-appsync APPSYNC_BENCH_FLAGS="--subscribers 1,100 --mutations 100"
bench-appsync:
	$(GO) build -o bin/setsuna ./cmd/setsuna
	cd bench/appsync && npm ci --no-audit --no-fund
	cd bench/appsync && node bench.js --setsuna $(CURDIR)/bin/setsuna \
		--out $(CURDIR)/bench/results/$$(date -u +%F)-appsync.md $(APPSYNC_BENCH_FLAGS)
.PHONY: bench-appsync

# The native change-feed service (internal/feedrpc), same pinned generators.
proto: proto-feed
proto-feed:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto/feed \
		--go_out=proto/feedpb --go_opt=paths=source_relative \
		--go-grpc_out=proto/feedpb --go-grpc_opt=paths=source_relative \
		proto/feed/*.proto
.PHONY: proto-feed

# The native publish API (internal/pubsubrpc), same pinned generators.
proto: proto-pubsub
proto-pubsub:
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto/pubsub \
		--go_out=proto/pubsubpb --go_opt=paths=source_relative \
		--go-grpc_out=proto/pubsubpb --go-grpc_opt=paths=source_relative \
		proto/pubsub/*.proto
.PHONY: proto-pubsub

# The Python client (clients/python, standard library only) against server
# processes, with the machine's python3 (>= 3.9).
python: build
	cd clients/python && SETSUNA_BIN=$(CURDIR)/$(BIN) python3 -W error::ResourceWarning -m unittest -v
.PHONY: python

# The web console (issue 19): internal/console/web builds the assets that
# internal/console embeds (committed in internal/console/dist, so the binary
# builds without Node); `make console` rebuilds them. `make test` checks that
# the committed assets are a fresh build, then runs the end-to-end tests in
# headless Chromium (Debian's chromium; screenshots in
# internal/console/web/test-results/).
CONSOLE_WEB := internal/console/web
console:
	cd $(CONSOLE_WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run build
console-e2e: build
	cd $(CONSOLE_WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run check && SETSUNA_BIN=$(CURDIR)/$(BIN) npm test
test: console-e2e
.PHONY: console console-e2e
