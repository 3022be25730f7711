// Package starhost hosts integrations: small, sandboxed Starlark modules
// that react to the events of a mission engine.
//
// A [Manager] loads integrations from the embedded defaults and from user
// folders (roots), dispatches events to them in priority order, and reloads
// them while events keep flowing. Every reload builds the new version
// completely on the side (fresh thread, fresh globals, validated declaration,
// migrated state) and swaps it in with one atomic step; a failed reload
// changes nothing and the old version keeps serving.
//
// # The integration format
//
// A .star file declares one or more integrations with the integration
// builtin (Example shows a whole session):
//
//	load("lib/stats.star", "percentile")
//
//	def on_response(event, ctx):
//	    ctx.state.setdefault("latencies", []).append(event.data["latency_ms"])
//	    return {"p50": percentile(ctx.state["latencies"], 50)}
//
//	integration(
//	    name = "latency",
//	    priority = "HIGH",            # CRITICAL, HIGH, NORMAL or LOW
//	    description = "Tracks response latency.",
//	    handlers = {"response_received": on_response},
//	    migrate = None,               # optional: def migrate(old_state): return new_state
//	)
//
// A handler receives the event (event.name, event.data, event.time,
// event.depth, event.source) and a context: ctx.state is the integration's
// own mutable dict, owned by the host and carried across reloads;
// ctx.log(...) writes to the integration's log; ctx.emit(name, data) queues
// a follow-up event. Whatever it returns (dicts, lists, strings, numbers,
// bools, None) is the Value of its [Result].
//
// Files in a folder named lib are libraries: load() finds them, and they
// declare no integrations. A load path is relative to an integration root
// ("lib/stats.star"); the libraries of the embedded defaults
// ([Options].Defaults) can be loaded from every root.
//
// # The Python API in Go
//
// A Manager is the Go form of the engine's Python IntegrationManager. Each
// Python method has one Go name, used by every front end as well:
//
//	Python IntegrationManager                Manager
//	---------------------------------------  ------------------------------------------------
//	load_default_integrations()              LoadDefaultIntegrations(ctx) error
//	reload_integration(name) -> bool         ReloadIntegration(ctx, name) error
//	reload_all_integrations()                ReloadAllIntegrations(ctx) map[string]error
//	    -> Dict[str, bool]
//	add_integration_dynamically(             AddIntegration(ctx, module, class) ([]Info, error)
//	    module_name, class_name) -> bool
//	remove_integration(name) -> bool         RemoveIntegration(ctx, name) error
//	get_integration_info(name)               IntegrationInfo(name) (Info, bool)
//	    -> Optional[Dict]
//	is_available(name) -> bool               IsAvailable(name) bool
//	emit(event, data)                        Emit(ctx, event, data) ([]Result, error)
//
// What differs, and why:
//   - A Python True is a nil error; the error says what failed, with
//     file:line:col (see [Diagnose]). reload_all_integrations' dict of
//     bools is a map from every name to nil or its error.
//   - [Manager.EmitID] is Emit for an event with an id, for an engine
//     that retries: an id handled already (within the last 100,000 ids
//     and 24 hours, also before a restart with a state store) is not
//     handled again ([ErrDuplicateEvent]).
//   - LoadDefaultIntegrations loads the embedded defaults and also every
//     module in the user folders ([Options].Roots); a user integration
//     overrides a default of the same name.
//   - AddIntegration's module is a .star path (relative to the first root)
//     or a "builtin:" path, not an import path; class is the name under
//     which the module declares the integration, and "" adds every
//     integration the module declares. It returns their infos.
//   - IntegrationInfo returns an [Info] whose first six JSON keys are
//     get_integration_info's: name, priority, available, subscriptions,
//     module and class; the rest are the host's additions.
//   - None of it needs quiet periods: every method is safe while events
//     flow, a reload is atomic and keeps state (ctx.state, see migrate),
//     and a change to a loaded library reloads its dependents
//     ([Manager.ReloadFiles]).
//   - State also survives a restart when the host has a state store
//     ([Options].Store, package statestore; see durable.go), where the
//     Python design lost it; configure_integrations' feature flags are
//     switches that keep an integration loaded ([Manager.DisableIntegration],
//     [Manager.EnableIntegration]), remembered with the state.
//   - A change can be tried on real traffic before it serves: in shadow
//     mode ([Manager.StartShadow], shadow.go) a save makes a shadow that
//     handles every event beside the serving version, on its own copy of
//     the state, and reports what it does differently
//     ([Manager.ShadowReport], [CompareResults]) until it is promoted
//     ([Manager.PromoteShadow]) or discarded ([Manager.DiscardShadow]).
//     Package startest runs an integration's own tests (NAME_test.star)
//     in a harness.
//
// The same operations in the front ends: the control API (package
// control), its Go client (control/client) and the command line:
//
//   - LoadDefaultIntegrations: when a host starts (afstudio [--dir DIR],
//     afstudio run --headless [--dir DIR]; --no-defaults skips the
//     embedded ones).
//   - ReloadIntegration: POST /v1/integrations/{name}/reload;
//     client.ReloadIntegration; saving the file (the watcher calls
//     ReloadFiles); the studio's Reload (Ctrl+R).
//   - ReloadAllIntegrations: POST /v1/reload; client.ReloadAllIntegrations;
//     the studio's Reload all (Ctrl+Shift+R).
//   - AddIntegration: POST /v1/integrations {"module": PATH, "class": NAME};
//     client.AddIntegration; afstudio FILE.star and the studio's Add…
//     (Ctrl+O); a new file in a watched folder.
//   - RemoveIntegration: DELETE /v1/integrations/{name};
//     client.RemoveIntegration; the studio's Remove (Del); deleting the
//     file.
//   - IntegrationInfo and IsAvailable: GET /v1/integrations/{name} (404
//     when unknown; "available" in the body); client.IntegrationInfo; the
//     studio's details pane. [Manager.Snapshot]: GET /v1/integrations;
//     client.Snapshot.
//   - Emit: POST /v1/events/{event} (and POST /v1/events for a batch);
//     client.Emit and client.EmitBatch; afstudio emit EVENT [JSON]; a line
//     {"event": NAME, "data": {...}} on the standard input of afstudio run
//     --headless; the studio's event console.
//
// # The sandbox
//
// Modules run in Starlark's strict dialect (no while, no top-level control
// flow, no recursion, no global reassignment) with only the json, math,
// time and struct modules. Every execution runs under a step budget and a
// wall-clock timeout, every value that crosses the boundary goes through a
// bounded converter, and every call into Starlark is guarded by recover, so
// no integration can crash, hang or corrupt the host. See [Limits].
package starhost
