//go:build linux && cgo

package main

/*
#include <malloc.h>
*/
import "C"

// releaseCMemory returns the C heap's free pages to the operating system
// (glibc's malloc_trim): the window's textures live in the C heap of the
// OpenGL driver (Mesa), whose allocator keeps what they freed.
func releaseCMemory() { C.malloc_trim(0) }
