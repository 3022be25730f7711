package starhost_test

import "github.com/afstudio/afstudio/starhost"

// outcomeErrs maps each integration ReloadFiles touched (or module, for
// one that declared nothing) to its error.
func outcomeErrs(outs []starhost.Outcome) map[string]error {
	m := map[string]error{}
	for _, o := range outs {
		key := o.Integration
		if key == "" {
			key = o.Module
		}
		m[key] = o.Err
	}
	return m
}
