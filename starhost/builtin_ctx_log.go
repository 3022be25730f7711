package starhost

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// logLevels are the levels ctx.log accepts.
var logLevels = map[string]bool{"debug": true, "info": true, "warn": true, "error": true}

// ctxLog implements ctx.log:
//
//	ctx.log(*values, level="info")
//
// It joins the values with spaces (strings as they are, other values in
// their Starlark form) and publishes the line as a log notice of the
// integration (see Manager.logLine). It is only available inside a
// handler.
var ctxLog = starlark.NewBuiltin("log", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	level, err := logLevel(kwargs)
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := starlark.AsString(a); ok {
			parts[i] = s
		} else {
			parts[i] = a.String()
		}
	}
	c, ok := callLocal.get(thread)
	if !ok {
		return nil, fmt.Errorf("log: only available inside a handler")
	}
	c.m.slotLog(c.slot, level, strings.Join(parts, " "))
	return starlark.None, nil
})

// logLevel returns the level= keyword argument of ctx.log ("info" when
// absent) and rejects any other keyword.
func logLevel(kwargs []starlark.Tuple) (string, error) {
	level := "info"
	for _, kv := range kwargs {
		k, _ := starlark.AsString(kv[0])
		if k != "level" {
			return "", fmt.Errorf("log: unexpected keyword argument %s", k)
		}
		s, ok := starlark.AsString(kv[1])
		if !ok || !logLevels[s] {
			return "", fmt.Errorf("log: level must be one of \"debug\", \"info\", \"warn\", \"error\", got %s", kv[1])
		}
		level = s
	}
	return level, nil
}

// logLine publishes one line an integration logged (ctx.log, or print in
// a handler or migrate), truncated to Limits.MaxLogBytes, as a NoticeLog
// notice, and writes it to the host's debug log.
func (m *Manager) logLine(integration, level, msg string) {
	msg = truncate(msg, m.limits.MaxLogBytes)
	m.notices.Publish(Notice{Kind: NoticeLog, Integration: integration, Level: level, Message: msg})
	m.log.Debug("integration log", "integration", integration, "level", level, "msg", msg)
}
