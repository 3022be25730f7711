package supervise

import (
	"strings"
	"testing"
	"time"
)

// TestLostResultID: the result of a line cut short by a worker's death
// says to send it again when it has an id (none of its changes were
// saved), and not to otherwise; it carries the id.
func TestLostResultID(t *testing.T) {
	tests := []struct {
		line, id, advice string
	}{
		{`{"event": "tick", "id": "evt-1"}`, "evt-1", "send it again with the same id"},
		{`{"event": "tick"}`, "", "do not send it again unless your integrations are idempotent"},
		{`not json`, "", "do not send it again unless your integrations are idempotent"},
	}
	for _, tt := range tests {
		n := lostResult([]byte(tt.line), "a.star", "", "ran out of memory", time.Now())
		if n.ID != tt.id || !strings.HasSuffix(n.Result.Error.Msg, tt.advice) {
			t.Errorf("%s: id %q, message %q; want id %q and %q", tt.line, n.ID, n.Result.Error.Msg, tt.id, tt.advice)
		}
	}
}
