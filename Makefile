# afstudio — the single entry point: make run, make test, make bench.
SHELL := /bin/bash
GO ?= go
VERSION := $(shell cat VERSION)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
FUZZTIME ?= 10s

# Debian/Ubuntu packages the build and tests need: Fyne's X11/GL headers
# (cgo), Xvfb and ImageMagick for the end-to-end window test.
APT_PACKAGES := gcc pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb imagemagick
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all run test deps build bench fuzz vet clean screenshots

all: build

## deps: install the system packages that are missing (apt-get).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  else echo "warning: missing packages:$$missing (no apt-get here; install them by hand)"; fi; \
	fi
	@$(GO) mod download

## build: the afstudio binary in bin/, version-stamped.
build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/afstudio ./cmd/afstudio

## run: open the studio window with the default integrations and ~/afstudio/integrations.
run: build
	./bin/afstudio

## test: vet, the race-enabled test suite, and a short fuzz run.
test: deps vet
	$(GO) test -race -count=1 ./...
	$(GO) test ./starhost -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

## bench: Go benchmarks and afstudio bench on 100 generated integrations.
bench: build
	$(GO) test ./starhost -run '^$$' -bench . -benchtime 2s -count 3
	./bin/afstudio bench

## screenshots: the README's screenshots, from the real app under Xvfb (needs xdotool).
screenshots:
	./scripts/screenshots.sh

fuzz:
	$(GO) test ./starhost -run '^$$' -fuzz FuzzCheck -fuzztime 5m

clean:
	rm -rf bin dist
