package studio

import (
	"context"

	"github.com/afstudio/afstudio/starhost"
)

// Host is what the studio shows and drives: a host of integrations. A
// *starhost.Manager in this process is one; a host reached over the
// control API (package control/remotehost) — the studio's own worker
// process, or a headless host elsewhere (--connect) — is the other. The
// methods mean what the Manager's of the same name mean; the studio calls
// the ones without a context from its UI goroutine, so a remote host
// answers them from what it last knew when it cannot reach the host.
type Host interface {
	Snapshot() starhost.View
	Names() []string
	IntegrationInfo(name string) (starhost.Info, bool)
	IsAvailable(name string) bool
	Subscribe(buffer int) *starhost.Subscription

	Emit(ctx context.Context, event string, data map[string]any) ([]starhost.Result, error)

	ReloadIntegration(ctx context.Context, name string) error
	ReloadAllIntegrations(ctx context.Context) map[string]error
	ReloadFiles(ctx context.Context, paths []string) []starhost.Outcome
	AddIntegration(ctx context.Context, module, class string) ([]starhost.Info, error)
	AddRoot(ctx context.Context, dir string) error
	RemoveIntegration(ctx context.Context, name string) error
	RemoveModule(ctx context.Context, module string) ([]string, error)

	EnableIntegration(name string) error
	DisableIntegration(name string) error

	StateJSON(name string) ([]byte, error)
	ResetState(name string) error
	ForgetState(name string) error
	ExportStates(names ...string) (starhost.StateExport, error)
	ImportStates(ctx context.Context, states map[string][]byte) error

	StartShadow(name string) error
	ShadowReport(name string) (starhost.ShadowReport, error)
	PromoteShadow(ctx context.Context, name string) error
	DiscardShadow(name string) error
}

// The host in this process is a Host.
var _ Host = (*starhost.Manager)(nil)
