package studio

// standardEvents are the mission engine's events, in lifecycle order, and
// the follow-up the default alerts integration raises. The event console
// always offers them.
var standardEvents = []string{"mission_started", "response_received", "mission_completed", "mission_failed", "alert_raised"}

// samplePayloads are realistic payloads for the standard events; the event
// console fills one in when an event is chosen. The response_received
// sample is slower than the alerts integration's threshold, so sending it
// also shows a follow-up event.
var samplePayloads = map[string]string{
	"mission_started": `{
  "mission_id": "m-1024",
  "goal": "Summarize last week's incident reports and draft a postmortem",
  "agent": "planner-v2"
}`,
	"response_received": `{
  "mission_id": "m-1024",
  "latency_ms": 6240,
  "response": "Found 14 incident reports; 9 trace back to the cache eviction change of 3 June.",
  "tokens": 2242
}`,
	"mission_completed": `{
  "mission_id": "m-1024",
  "outcome": "success",
  "duration_ms": 48210,
  "responses": 7
}`,
	"mission_failed": `{
  "mission_id": "m-1024",
  "error": "tool call search_incidents timed out after 30 s",
  "step": 4
}`,
	"alert_raised": `{
  "mission_id": "m-1024",
  "reason": "slow_response",
  "severity": "warning"
}`,
}

// defaultSamplePayload is the payload offered for events without a
// bundled sample: every default integration keys its state by mission.
const defaultSamplePayload = `{
  "mission_id": "m-1024"
}`

// samplePayload returns the bundled sample payload of event, or a minimal
// object for events without one.
func samplePayload(event string) string {
	if s, ok := samplePayloads[event]; ok {
		return s
	}
	return defaultSamplePayload
}

// isSamplePayload reports whether text is one of the bundled samples, so
// that the console may replace it without losing the user's work.
func isSamplePayload(text string) bool {
	if text == defaultSamplePayload {
		return true
	}
	for _, s := range samplePayloads {
		if s == text {
			return true
		}
	}
	return false
}
