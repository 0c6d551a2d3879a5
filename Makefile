# make test: what CI runs (see .ci/run). Services the integration tests need
# (redis-server, chromium) are started by scripts/test-services.sh when present.
GO ?= go
PKGS := ./...

.PHONY: test fmt-check vet unit bench fuzz demo

test: fmt-check vet unit

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

demo:
	$(GO) run ./examples/demo
