// Package integrations holds afstudio's default integrations, embedded
// into the binary: analytics, afterimage, audit and alerts, and the
// shared library lib/stats.star they load. A user folder can override any
// of them by declaring an integration of the same name.
//
// Each default has its tests beside it (NAME_test.star, run by afstudio
// test and package startest); they are not embedded.
package integrations

import "embed"

// FS holds the default integration modules (*.star) and their libraries
// (lib/*.star), rooted at this folder; not their tests (*_test.star). A
// new default is added to the list below (TestEmbeddedFiles checks it).
//
//go:embed afterimage.star alerts.star analytics.star audit.star lib/stats.star
var FS embed.FS
