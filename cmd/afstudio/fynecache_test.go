package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
)

// TestFyneCacheIsSetBeforeFyneReadsIt: in the built binary, package
// fynecache sets FYNE_CACHE before Fyne's internal/cache package reads it
// (both in their init; GODEBUG=inittrace=1 prints each init as it runs).
// Go's order of package initialization is by import path among the
// packages that are ready, so a new import could change it.
func TestFyneCacheIsSetBeforeFyneReadsIt(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, stderr.String())
	}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^init (\S+) @`).FindAllStringSubmatch(stderr.String(), -1) {
		order = append(order, m[1])
	}
	ours := slices.Index(order, "github.com/afstudio/afstudio/internal/fynecache")
	fyne := slices.Index(order, "fyne.io/fyne/v2/internal/cache")
	if ours < 0 || fyne < 0 {
		t.Fatalf("fynecache at %d, Fyne's internal/cache at %d in the init order %v", ours, fyne, order)
	}
	if ours > fyne {
		t.Errorf("fynecache is initialized after Fyne's internal/cache (%d > %d): FYNE_CACHE is set too late", ours, fyne)
	}
}
