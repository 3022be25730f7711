# afstudio — the single entry point: make run, make test, make bench.
SHELL := /bin/bash
GO ?= go
VERSION := $(shell cat VERSION)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
FUZZTIME ?= 10s

# Debian/Ubuntu packages the build and tests need: Fyne's X11/GL headers
# (cgo); for the end-to-end window test, which reads the real window:
# Xvfb (the screen), ImageMagick (screenshots), tesseract (reads their
# text) and xdotool (clicks and keys).
APT_PACKAGES := gcc pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb imagemagick tesseract-ocr xdotool
# Screenshots and other files tests keep (go test -artifacts), for a
# failure to be looked at: .build/test-artifacts/.
ARTIFACTS := $(CURDIR)/.build/test-artifacts
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

## test: vet, the race-enabled test suite (with the window test under Xvfb; its screenshots go to .build/test-artifacts), and a short fuzz run.
test: deps vet
	rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	$(GO) test -race -count=1 -artifacts -outputdir $(ARTIFACTS) ./...
	$(GO) test ./starhost -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	$(GO) test ./starhost -run '^$$' -fuzz FuzzSorted -fuzztime $(FUZZTIME)
	$(GO) test ./starhost -run '^$$' -fuzz FuzzStateJSON -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

## bench: Go benchmarks, then afstudio bench on 100 generated integrations side by side with the Python design it replaces (scripts/bench-compare.sh; without python3, afstudio bench alone).
bench: build
	$(GO) test ./starhost -run '^$$' -bench . -benchtime 2s -count 3
	@if python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then ./scripts/bench-compare.sh bin/afstudio; \
	else echo "bench: no python3 3.10 or newer: skipping the comparison with the Python design (scripts/bench-compare.sh); afstudio bench alone:"; \
	  ./bin/afstudio bench; fi

## screenshots: the README's screenshots, from the real app under Xvfb (needs xdotool).
screenshots:
	./scripts/screenshots.sh

fuzz:
	$(GO) test ./starhost -run '^$$' -fuzz FuzzCheck -fuzztime 5m
	$(GO) test ./starhost -run '^$$' -fuzz FuzzSorted -fuzztime 5m

clean:
	rm -rf bin dist

# ---------------------------------------------------------------------------
# Installers: `make package` builds every package into dist/, `make
# test-package` checks them (building them first when dist/ is stale). The
# scripts and package definitions are in packaging/. Tools are installed when
# missing: Debian packages by apt-get, Go tools at pinned versions into .tools/.
FYNE_TOOLS_VERSION := v1.7.4
NFPM_VERSION := v2.45.2
TOOLS_BIN := $(CURDIR)/.tools/bin
FYNE := $(TOOLS_BIN)/fyne
NFPM := $(TOOLS_BIN)/nfpm
# wine and wine64 run the Windows checks (the .exe, the installer, the
# window) in test-package.
PACKAGE_APT_PACKAGES := gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 nsis zip unzip xz-utils imagemagick librsvg2-bin binutils file desktop-file-utils wine wine64
PACKAGE_ENV = GO='$(GO)' FYNE='$(FYNE)' NFPM='$(NFPM)' VERSION='$(VERSION)' COMMIT='$(COMMIT)' DATE='$(DATE)' LDFLAGS='$(LDFLAGS)'

# $(call go_tool,BINARY,PACKAGE,MODULE,VERSION): go install PACKAGE@VERSION
# into .tools/bin unless BINARY is already that version of MODULE.
go_tool = if [ "$$($(GO) version -m $(1) 2>/dev/null | awk '$$1 == "mod" && $$2 == "$(3)" {print $$3}')" != "$(4)" ]; then \
	  echo "installing $(2)@$(4) into .tools/bin"; GOBIN='$(TOOLS_BIN)' $(GO) install $(2)@$(4); fi

.PHONY: package test-package package-deps

## package: the installers in dist/: Linux .tar.xz and .deb, Windows setup .exe and .zip, SHA256SUMS.
package: deps package-deps
	$(PACKAGE_ENV) ./packaging/package.sh

## test-package: check the installers (packaging/test-package.sh), building them first if dist/ is stale.
test-package: deps package-deps
	@if $(PACKAGE_ENV) ./packaging/package.sh --fresh; then echo "dist/ is up to date with the sources"; \
	else $(PACKAGE_ENV) ./packaging/package.sh; fi
	$(PACKAGE_ENV) ./packaging/test-package.sh

## package-deps: the packaging tools: MinGW, NSIS, zip, ImageMagick, rsvg-convert, wine (apt-get), fyne and nfpm (go install).
package-deps:
	@missing=""; for p in $(PACKAGE_APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  else echo "error: missing packages:$$missing (no apt-get here; install them by hand)" >&2; exit 1; fi; \
	fi
	@$(call go_tool,$(FYNE),fyne.io/tools/cmd/fyne,fyne.io/tools,$(FYNE_TOOLS_VERSION))
	@$(call go_tool,$(NFPM),github.com/goreleaser/nfpm/v2/cmd/nfpm,github.com/goreleaser/nfpm/v2,$(NFPM_VERSION))
