// Package recording holds event recordings: JSON lines a host can replay.
//
// A recording is a file of one [Entry] per line, in the order the host
// accepted the events:
//
//	{"event":"mission_started","data":{"mission_id":"m1"},"time":"2026-11-26T03:43:37.611955223Z"}
//	{"event":"response_received","data":{"latency_ms":6200,"mission_id":"m1"},"id":"evt-42","time":"2026-11-26T03:43:37.712408599Z"}
//
// It is the input format of `afstudio run --headless` with a "time" key
// added (which the headless host accepts and ignores), so a recording
// replays through `afstudio run --headless < FILE` as well as through
// `afstudio replay FILE`. Only the events a front end delivered are
// recorded, not the follow-ups their handlers queued: a replay
// regenerates those.
//
// A [Writer] appends entries to a file up to a size limit and counts what
// it had to drop; a [Reader] reads them back and reports a bad line as
// FILE:LINE:COL with what to do about it.
package recording
