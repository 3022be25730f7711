#!/usr/bin/env bash
# Builds every installer into dist/ (run by `make package`, which first
# installs the tools this needs):
#
#   afstudio-VERSION-linux-amd64.tar.xz        `fyne package -os linux`: binary, .desktop, icon, install Makefile
#   afstudio_VERSION-1_amd64.deb               nfpm, from packaging/nfpm.yaml
#   afstudio-VERSION-windows-amd64-setup.exe   NSIS, from packaging/windows/afstudio.nsi
#   afstudio-VERSION-windows-amd64.zip         the portable afstudio.exe
#   SHA256SUMS
#
# The version comes from the VERSION file and must equal FyneApp.toml's
# Version; FyneApp.toml's Build is the build number. Both binaries are built
# once each (Linux and Windows, in parallel) from a snapshot of the working
# tree in .build/src, where the generated files go: the Fyne metadata that
# `fyne build` would inject (app ID, version, icon, release mode) and the
# Windows resources (icon, version, manifest) as rsrc_windows_amd64.syso.
# The working tree is never written to, except dist/ and .build/.
#
#   packaging/package.sh            build everything
#   packaging/package.sh --fresh    exit 0 if dist/ holds the packages of the
#                                   current sources (used by make test-package)
#
# Environment (make passes these): GO, FYNE, NFPM, VERSION, COMMIT, DATE,
# LDFLAGS (the Makefile's -X main.version/commit/date flags).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

GO=${GO:-go}
FYNE=${FYNE:-$root/.tools/bin/fyne}
NFPM=${NFPM:-$root/.tools/bin/nfpm}
VERSION=${VERSION:-$(cat VERSION)}
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
DATE=${DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
LDFLAGS=${LDFLAGS:-"-X main.version=$VERSION -X main.commit=$COMMIT -X main.date=$DATE"}
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
WINDRES=${WINDRES:-x86_64-w64-mingw32-windres}

build=$root/.build
stamp=$build/package.inputs

die() { echo "package: error: $*" >&2; exit 1; }
t0=$SECONDS
step() { printf '==> [%3ss] %s\n' "$((SECONDS - t0))" "$*"; }

# The files the packages are built from: git's view of the working tree
# (tracked and untracked, minus ignored), or everything but build outputs
# outside git.
source_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
			[ -f "$f" ] && printf '%s\0' "$f"
		done
	else
		find . \( -path ./.git -o -path ./.tools -o -path ./.build -o -path ./dist -o -path ./bin \) -prune \
			-o -type f -print0
	fi
}

# One hash over everything a package depends on: sources, version, commit,
# tool versions. make test-package rebuilds only when it changed.
inputs_hash() {
	{
		echo "version=$VERSION commit=$COMMIT"
		"$GO" version
		for t in "$FYNE" "$NFPM"; do [ -x "$t" ] && "$GO" version -m "$t" | awk '$1 == "mod" {print $2, $3}'; done
		source_files | sort -z | xargs -0 sha256sum
	} | sha256sum | cut -d' ' -f1
}

# [Details] key = "value" from FyneApp.toml.
toml_detail() {
	awk -v key="$1" '
		/^\[/ { details = ($0 ~ /^\[Details\]/) }
		details && $1 == key && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }
	' FyneApp.toml
}

APP_NAME=$(toml_detail Name)
APP_ID=$(toml_detail ID)
APP_VERSION=$(toml_detail Version)
APP_BUILD=$(toml_detail Build)
APP_ICON=$(toml_detail Icon)

[[ $VERSION =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
	die "VERSION is \"$VERSION\"; it must be MAJOR.MINOR.PATCH (numbers only: Windows' version resource and fyne need that)"
V_MAJOR=${BASH_REMATCH[1]} V_MINOR=${BASH_REMATCH[2]} V_PATCH=${BASH_REMATCH[3]}
[ "$APP_VERSION" = "$VERSION" ] ||
	die "FyneApp.toml has Version = \"$APP_VERSION\" but VERSION says $VERSION; make them agree"
[[ $APP_BUILD =~ ^[1-9][0-9]*$ ]] || die "FyneApp.toml's Build must be a positive integer, not \"$APP_BUILD\""
[ "$APP_NAME" = afstudio ] || die "FyneApp.toml's Name is \"$APP_NAME\"; the packages expect afstudio"
[ -n "$APP_ID" ] || die "FyneApp.toml has no ID"
[ -f "$APP_ICON" ] || die "FyneApp.toml's Icon \"$APP_ICON\" does not exist"

tar_name=afstudio-$VERSION-linux-amd64.tar.xz
deb_name=afstudio_${VERSION}-1_amd64.deb
setup_name=afstudio-$VERSION-windows-amd64-setup.exe
zip_name=afstudio-$VERSION-windows-amd64.zip

if [ "${1:-}" = --fresh ]; then
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(inputs_hash)" ] || exit 1
	for f in "$tar_name" "$deb_name" "$setup_name" "$zip_name" SHA256SUMS; do [ -f "dist/$f" ] || exit 1; done
	(cd dist && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1) || exit 1
	exit 0
fi

for tool in "$FYNE" "$NFPM" "$MINGW_CC" "$WINDRES" makensis convert rsvg-convert zip objdump xz; do
	command -v "$tool" >/dev/null || die "$tool is missing; run make package (it installs the tools)"
done

tags=release
if awk '/^\[/ { m = ($0 ~ /^\[Migrations\]/) } m && $1 == "fyneDo" && $3 == "true" { found = 1 } END { exit !found }' FyneApp.toml; then
	tags=$tags,migrated_fynedo # what fyne build adds for [Migrations] fyneDo = true
	migrations='map[string]bool{"fyneDo": true}'
else
	migrations='map[string]bool{}'
fi

toml_before=$(sha256sum FyneApp.toml)
hash=$(inputs_hash)
# Only package.sh's own folders: .build/ also holds the tests' screenshots
# (.build/test-artifacts) and test-package's scratch folder.
rm -rf "$build"/{src,linux,windows,deb,fyne,dist} "$stamp"
mkdir -p "$build"/{src,linux,windows,deb/icons,fyne/src,fyne/out,dist}

step "afstudio $VERSION (build $APP_BUILD, commit $COMMIT): snapshot of the sources in .build/src"
source_files | tar --null -T - -cf - | tar -xf - -C "$build/src"

# The metadata `fyne build`/`fyne package` inject into a packaged app, so the
# installed binary knows its ID, version and icon (the window icon) without a
# FyneApp.toml beside it.
cp "$APP_ICON" "$build/src/cmd/afstudio/packaged_icon.png"
cat >"$build/src/cmd/afstudio/zz_packaged_metadata.go" <<EOF
// Code generated by packaging/package.sh for the packaged build; DO NOT EDIT.

package main

import (
	_ "embed"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
)

//go:embed packaged_icon.png
var packagedIcon []byte

func init() {
	app.SetMetadata(fyne.AppMetadata{
		ID:         "$APP_ID",
		Name:       "$APP_NAME",
		Version:    "$VERSION",
		Build:      $APP_BUILD,
		Icon:       fyne.NewStaticResource("$APP_NAME.png", packagedIcon),
		Release:    true,
		Custom:     map[string]string{},
		Migrations: $migrations,
	})
}
EOF

step "Windows resources: icon, version $VERSION.$APP_BUILD, manifest"
convert "$APP_ICON" -background none -define icon:auto-resize=256,128,64,48,32,16 "$build/windows/afstudio.ico"
cp packaging/windows/afstudio.manifest "$build/windows/"
cat >"$build/windows/version.h" <<EOF
// Generated by packaging/package.sh.
#define AFSTUDIO_VERSION_MAJOR $V_MAJOR
#define AFSTUDIO_VERSION_MINOR $V_MINOR
#define AFSTUDIO_VERSION_PATCH $V_PATCH
#define AFSTUDIO_BUILD $APP_BUILD
#define AFSTUDIO_VERSION "$VERSION"
#define AFSTUDIO_FILE_VERSION "$VERSION.$APP_BUILD"
#define AFSTUDIO_COMMENTS "commit $COMMIT, built $DATE"
EOF
"$WINDRES" -I "$build/windows" -I packaging/windows -O coff \
	-o "$build/src/cmd/afstudio/rsrc_windows_amd64.syso" packaging/windows/afstudio.rc

# Both builds at once: the Windows one (cgo through MinGW) is the long one on
# a cold cache; each is built exactly once and shared by its packages.
step "go build: linux/amd64 and windows/amd64 (tags $tags), in parallel"
(
	cd "$build/src"
	CGO_ENABLED=1 CGO_LDFLAGS="${CGO_LDFLAGS:-} -Wl,-z,relro,-z,now" \
		"$GO" build -trimpath -tags "$tags" -ldflags "-s -w $LDFLAGS" -o "$build/linux/afstudio" ./cmd/afstudio
) >"$build/linux.log" 2>&1 &
linux_pid=$!
(
	cd "$build/src"
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC="$MINGW_CC" \
		"$GO" build -trimpath -tags "$tags" -ldflags "-H=windowsgui -s -w $LDFLAGS" -o "$build/windows/afstudio.exe" ./cmd/afstudio
) >"$build/windows.log" 2>&1 &
windows_pid=$!
linux_ok=0 windows_ok=0
wait "$linux_pid" || linux_ok=$?
wait "$windows_pid" || windows_ok=$?
[ "$linux_ok" = 0 ] || { cat "$build/linux.log" >&2; die "the Linux build failed"; }
[ "$windows_ok" = 0 ] || { cat "$build/windows.log" >&2; die "the Windows build failed"; }
cat "$build/linux.log" "$build/windows.log"
step "built: $("$build/linux/afstudio" version)"

step "Linux: fyne package -os linux -> $tar_name"
# fyne reads FyneApp.toml from --src and bumps its Build after packaging, so
# it gets a copy: the repository's FyneApp.toml is never written. --src also
# needs a Go file; --exe is the binary built above, so fyne builds nothing.
cp FyneApp.toml "$build/fyne/src/"
cp "$APP_ICON" "$build/fyne/src/Icon.png"
printf 'package main\n' >"$build/fyne/src/main.go"
(
	cd "$build/fyne/out"
	"$FYNE" package -os linux --exe "$build/linux/afstudio" --src "$build/fyne/src" \
		--name "$APP_NAME" --app-id "$APP_ID" --app-version "$VERSION" --app-build "$APP_BUILD" \
		--icon "$build/fyne/src/Icon.png"
)
mv "$build/fyne/out/$APP_NAME.tar.xz" "$build/dist/$tar_name"

step "Linux: nfpm -> $deb_name"
for size in 48 64 128 256 512; do
	rsvg-convert -w "$size" -h "$size" -o "$build/deb/icons/${size}x${size}.png" assets/icon.svg
done
ln "$build/linux/afstudio" "$build/deb/afstudio"
glibc_min=$(objdump -T "$build/linux/afstudio" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n1)
[ -n "$glibc_min" ] || die "found no GLIBC_ symbol versions in the Linux binary"
VERSION=$VERSION STAGE=$build/deb GLIBC_MIN=$glibc_min \
	"$NFPM" package -p deb -f packaging/nfpm.yaml -t "$build/dist/$deb_name"

step "Windows: portable $zip_name"
(cd "$build/windows" && zip -q -9 -X "$build/dist/$zip_name" afstudio.exe)

step "Windows: makensis -> $setup_name"
makensis -V2 -NOCD -DVERSION="$VERSION" -DVERSION4="$VERSION.$APP_BUILD" \
	-DSRCDIR="$build/windows" -DOUTFILE="$build/dist/$setup_name" packaging/windows/afstudio.nsi

step "SHA256SUMS"
(cd "$build/dist" && sha256sum -- "$tar_name" "$deb_name" "$setup_name" "$zip_name" >SHA256SUMS)

[ "$(sha256sum FyneApp.toml)" = "$toml_before" ] || die "FyneApp.toml changed while packaging"

rm -rf dist
mv "$build/dist" dist
rm -rf "$build"/{src,linux,windows,deb,fyne} "$build"/*.log
echo "$hash" >"$stamp"
step "done: dist/"
(cd dist && ls -l)
