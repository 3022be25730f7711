package starhost_test

import (
	"testing"

	"github.com/afstudio/afstudio/starhost"
)

func TestIsModuleFile(t *testing.T) {
	for name, want := range map[string]bool{
		"a.star": true, "b.star": true, ".a.star.swp": false, "a.star~": false, "4913": false,
		".#a.star": false, "a.star___jb_tmp___": false, "a.star___jb_old___": false, ".hidden.star": false, "a.py": false,
	} {
		if got := starhost.IsModuleFile(name); got != want {
			t.Errorf("IsModuleFile(%q) = %v, want %v", name, got, want)
		}
	}
}
