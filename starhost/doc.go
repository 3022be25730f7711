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
// builtin:
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
// a follow-up event.
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
