// Package startest runs the NAME_test.star tests of integrations.
//
// A test file sits beside the integrations it tests (analytics_test.star
// next to analytics.star) or in a tests folder below them
// (tests/analytics_test.star); the host never loads either as an
// integration (starhost.IsTestFile, starhost.TestsDir). Its functions named
// test_* are the tests. Each runs on its own thread, in parallel with the
// others, in the modules' dialect and under the same limits as a handler
// (starhost.Limits: the step budget and the timeout), so a test that loops
// fails instead of hanging. Besides the modules' builtins (json, math,
// time, struct, sorted, sum), a test file sees:
//
//	harness(name, state = None)  a fresh instance of integration name
//	assert                       go.starlark.net/starlarktest's assert module:
//	                             assert.eq(x, y), assert.ne, assert.true(cond, msg),
//	                             assert.lt, assert.contains(x, y), assert.fails(fn, pattern),
//	                             assert.fail(msg)
//	skip(reason = "")            ends the test; it is reported as skipped
//	load("lib/x.star", "f")      a library of the integration folder, or of the defaults
//
// A failed assertion does not stop the test (like testing.T.Error); each is
// a [Failure] at the assertion's file:line:col in the test file, with both
// values compared ("assert.eq: 3 != 4"). An error (fail(), a handler's
// error that h.emit raised, a timeout) ends the test with a failure at the
// innermost line of the test file it passed through.
//
// # The harness
//
// harness(name) builds integration name from the integration folder of
// the test file (its folder; for a file in a tests folder, the parent) or,
// when no module there declares it, from the defaults (Options.Defaults).
// It is built by a starhost.Manager of its own, exactly as the host builds
// it (sandbox, limits, load, migrate), with no other integration loaded, so
// only it handles the events the test emits; nothing is shared with other
// tests or with a running host. The value it returns has:
//
//	h.emit(event, data = {})  runs the integration's handler for event and returns
//	                          its value; fails with the handler's error (file:line:col)
//	                          when it failed, and when the integration does not
//	                          handle event
//	h.state                   the current state, as a new dict (changing it changes
//	                          nothing; pass state = {...} to harness to start from one)
//	h.emitted                 the follow-up events queued so far, in order, as
//	                          {"event": NAME, "data": {...}} (held, not dispatched)
//	h.logs                    the lines logged so far (ctx.log, print), "LEVEL: text"
//	h.reload()                rebuilds the integration from its file as a save does;
//	                          its migrate, if any, runs on the current state
//	h.name                    the integration's name
//
// Numbers keep their kind: an int the handler returns is an int in the test.
//
// [Run] runs the tests of files and folders (afstudio test uses it); a
// front end that runs an integration's tests when it is saved finds them
// with [TestFiles].
package startest
