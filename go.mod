module github.com/afstudio/afstudio

go 1.26.8

require (
	github.com/fsnotify/fsnotify v1.10.1
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
)

require golang.org/x/sys v0.42.0 // indirect
