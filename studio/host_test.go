package studio

import "github.com/afstudio/afstudio/control/remotehost"

// A host reached over the control API is a Host. The assertion lives here,
// not in package remotehost, so that package control does not import the
// studio (and Fyne).
var _ Host = (*remotehost.Host)(nil)
