# make test: what CI runs (see .ci/run): gofmt check, go vet, and every test
# under the race detector, with the services the integration tests need
# (redis-server, chromium) installed when missing and started for the run.
GO ?= go

.PHONY: test fmt-check vet unit services bench fuzz demo

test: fmt-check vet services unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

services:
	@./scripts/install-services.sh

unit:
	./scripts/with-services.sh $(GO) test -race -count=1 -timeout 20m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo:
	$(GO) run ./examples/demo
