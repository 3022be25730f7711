package startest

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/afstudio/afstudio/starhost"
)

// A moduleIndex maps the integrations of one integration folder (and of
// the defaults) to the modules that declare them, found once per Run by
// checking each module as the host would load it.
type moduleIndex struct {
	r      *runner
	folder string

	once     sync.Once
	byName   map[string]string // integration -> module, folder first
	failed   []string          // the folder's modules that failed to load, with their errors
	declared []string          // the folder's integrations
}

// index returns the module index of an integration folder.
func (r *runner) index(folder string) *moduleIndex {
	r.mu.Lock()
	defer r.mu.Unlock()
	ix, ok := r.indexes[folder]
	if !ok {
		ix = &moduleIndex{r: r, folder: folder}
		r.indexes[folder] = ix
	}
	return ix
}

// find returns the module that declares integration name.
func (ix *moduleIndex) find(name string) (string, error) {
	ix.once.Do(ix.build)
	if m, ok := ix.byName[name]; ok {
		return m, nil
	}
	msg := fmt.Sprintf("no integration %q in %s", name, ix.folder)
	if len(ix.declared) > 0 {
		msg += " (it declares " + strings.Join(ix.declared, ", ") + ")"
	}
	if len(ix.failed) > 0 {
		return "", fmt.Errorf("%s; these modules failed to load, fix them first:\n%s", msg, strings.Join(ix.failed, "\n"))
	}
	return "", fmt.Errorf("%s or the defaults; a test harnesses the integrations of its folder (for a file in tests/, of the parent folder); check the name", msg)
}

// build checks every module of the folder and, unless one failed to load
// (it may be the one asked for), of the defaults.
func (ix *moduleIndex) build() {
	ix.byName = map[string]string{}
	opts := starhost.Options{Defaults: ix.r.opts.Defaults, Roots: []string{ix.folder}, Limits: ix.r.opts.Limits}
	_ = filepath.WalkDir(ix.folder, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // an unreadable folder has no modules for us
		case d.IsDir():
			if p != ix.folder && starhost.IsSkippedDir(d.Name()) {
				return filepath.SkipDir
			}
		case starhost.IsModuleFile(d.Name()):
			ix.add(opts, p, true)
		}
		return nil
	})
	if len(ix.failed) > 0 || ix.r.opts.Defaults == nil {
		return
	}
	_ = fs.WalkDir(ix.r.opts.Defaults, ".", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir():
			if p != "." && starhost.IsSkippedDir(d.Name()) {
				return fs.SkipDir
			}
		case starhost.IsModuleFile(d.Name()):
			ix.add(opts, starhost.BuiltinPrefix+p, false)
		}
		return nil
	})
}

// add checks one module and indexes what it declares (a name already
// indexed keeps its module).
func (ix *moduleIndex) add(opts starhost.Options, module string, inFolder bool) {
	decls, err := starhost.Check(opts, module)
	if err != nil {
		if inFolder {
			ix.failed = append(ix.failed, starhost.Diagnose(err, module).Error())
		}
		return
	}
	for _, d := range decls {
		if _, dup := ix.byName[d.Name]; !dup {
			ix.byName[d.Name] = module
			if inFolder {
				ix.declared = append(ix.declared, d.Name)
			}
		}
	}
}
