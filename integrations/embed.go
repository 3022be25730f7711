// Package integrations holds afstudio's default integrations, embedded
// into the binary: analytics, afterimage, audit and alerts, and the
// shared library lib/stats.star they load. A user folder can override any
// of them by declaring an integration of the same name.
package integrations

import "embed"

// FS holds the default integration modules (*.star) and their libraries
// (lib/*.star), rooted at this folder.
//
//go:embed *.star lib/*.star
var FS embed.FS
