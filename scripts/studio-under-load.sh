#!/usr/bin/env bash
# The studio under load (issue 10): feeds batches of 100 response_received
# events over the control API to the headless host, then to the studio
# window (under Xvfb), each for SECS seconds (default 10), and prints for
# each: events/s seen by the client, the studio/headless ratio, the
# resident memory (VmRSS) and CPU % at idle (3 s before the load), the
# maximum RSS during the load, the CPU % of each second after the load
# (0-1 s ... 5-6 s) and over 2-5 s, and the RSS 5 s and AFTER s (default
# 20) after the load.
#
#   TABS="events log details" SECS=10 WORKERS=4 scripts/studio-under-load.sh
#
# TABS lists the studio tabs to try (details selects audit: a live state
# tree of 500 entries). BIN=path runs that afstudio binary instead of
# building one (to compare two builds in one session); HEADLESS=0 skips
# the headless run. Needs Xvfb and Go; runs in a fresh HOME.
#
# Then, unless CLICKS=0 (or without xdotool), one more studio session
# under the same load answers clicks: every 1.2 s xdotool clicks a row of
# the list or a tab, in turn, and the studio (AFSTUDIO_TRACE_UI=1) logs
# when each click's callback ran, when its result was in the widgets and
# when the next frame had been drawn up to the studio's frame probe
# (drawn last, over the content; the buffer swap follows). The script
# prints, per kind of action, the median, the 90th percentile and the
# maximum of: click to callback (the click's time is taken just before
# xdotool starts, so it includes xdotool's own start), callback to
# painted, and click to painted. WORKERS=0 gives the same figures for an
# idle studio.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
secs=${SECS:-10} workers=${WORKERS:-4} tabs=${TABS:-"events log details"} after=${AFTER:-20}
display=${DISPLAY_NUM:-:95} port=${PORT:-17877}
out=${OUT:-$PWD/.build/studio-under-load}
rm -rf "$out" && mkdir -p "$out/home" "$out/client"
if [ -n "${BIN:-}" ]; then
	cp "$BIN" "$out/afstudio" || exit 1
else
	go build -o "$out/afstudio" ./cmd/afstudio || exit 1
fi

cat >"$out/client/main.go" <<'GO'
// Posts batches of 100 response_received events for a duration from
// several workers; prints the events/s the host accepted.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url, token := os.Args[1], os.Args[2]
	secs, _ := strconv.Atoi(os.Args[3])
	workers, _ := strconv.Atoi(os.Args[4])
	type ev struct {
		Event string         `json:"event"`
		Data  map[string]any `json:"data"`
	}
	var evs []ev
	for i := 0; i < 100; i++ {
		evs = append(evs, ev{"response_received", map[string]any{"mission_id": "m1", "latency_ms": 100 + i}})
	}
	body, _ := json.Marshal(map[string]any{"events": evs})
	var n, failed atomic.Int64
	end := time.Now().Add(time.Duration(secs) * time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				req, _ := http.NewRequest("POST", url+"/v1/events", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					failed.Add(1)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					n.Add(100)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("%.0f %d %d\n", float64(n.Load())/el, n.Load(), failed.Load())
}
GO
(cd "$out/client" && printf 'module loadclient\ngo 1.22\n' >go.mod && go build -o ../client.bin .) || exit 1

export HOME=$out/home XDG_CONFIG_HOME=$out/home/.config
token=$("$out/afstudio" token) || exit 1
xpid=
if [ -z "${DISPLAY_KEEP:-}" ]; then
	Xvfb "$display" -screen 0 1600x1000x24 >/dev/null 2>&1 &
	xpid=$!
	export DISPLAY=$display
	sleep 1
fi
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$xpid" ] && kill "$xpid" 2>/dev/null; }
trap cleanup EXIT

rss() { awk '/VmRSS/{print int($2/1024)}' "/proc/$1/status" 2>/dev/null; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null; }
waitapi() {
	for _ in $(seq 100); do
		curl -fs -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/v1/integrations" && return 0
		sleep 0.2
	done
	echo "API never answered" >&2
	return 1
}

# cpu PID SECS: the CPU % of process PID over the next SECS seconds.
cpu() {
	local t0 t1
	t0=$(ticks "$1"); sleep "$2"; t1=$(ticks "$1")
	awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" -v s="$2" 'BEGIN{printf "%.0f", (b-a)*100/hz/s}'
}

# measure NAME: the process $pid serves the API; feed it and sample it.
measure() {
	local name=$1 idle idlecpu max=0 r after5 afterN cpu25 t1 t2 t5 hz i
	local -a persec=()
	sleep 3
	idle=$(rss "$pid")
	idlecpu=$(cpu "$pid" 3)
	"$out/client.bin" "http://127.0.0.1:$port" "$token" "$secs" "$workers" >"$out/$name.client" &
	local cpid=$!
	while kill -0 "$cpid" 2>/dev/null; do
		r=$(rss "$pid"); [ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
		sleep 0.5
	done
	read -r eps _ failed <"$out/$name.client"
	hz=$(getconf CLK_TCK)
	for i in 1 2 3 4 5 6; do
		t1=$(ticks "$pid"); sleep 1; t2=$(ticks "$pid")
		persec+=("$(awk -v a="$t1" -v b="$t2" -v hz="$hz" 'BEGIN{printf "%.0f", (b-a)*100/hz}')")
		[ "$i" = 2 ] && t5=$t2
		[ "$i" = 5 ] && { cpu25=$(awk -v a="$t5" -v b="$t2" -v hz="$hz" 'BEGIN{printf "%.0f", (b-a)*100/hz/3}'); after5=$(rss "$pid"); }
	done
	sleep $((after - 6))
	afterN=$(rss "$pid")
	printf '%-16s %8s ev/s  idle %4s MB %3s%%  max %4s MB  after 5s %4s MB  %ss %4s MB  cpu 2-5s after %3s%%  per s after: %s  (failed requests %s)\n' \
		"$name" "$eps" "$idle" "$idlecpu" "$max" "$after5" "$after" "$afterN" "$cpu25" "${persec[*]}" "$failed"
	echo "$eps" >"$out/$name.eps"
}

# headless
if [ "${HEADLESS:-1}" != 0 ]; then
tail -f /dev/null | "$out/afstudio" run --headless --listen "127.0.0.1:$port" --data "$out/data-headless" >/dev/null 2>"$out/headless.log" &
pid=$! # the host's: the last command of the pipeline
waitapi || exit 1
measure headless
kill "$pid"; wait "$pid" 2>/dev/null; pid=
fi

for tab in $tabs; do
	args=(--listen "127.0.0.1:$port" --tab "$tab" --data "$out/data-$tab") # each run its own state file
	[ "$tab" = details ] && args+=(--select audit)
	"$out/afstudio" "${args[@]}" >/dev/null 2>"$out/studio-$tab.log" &
	pid=$!
	waitapi || exit 1
	measure "studio-$tab"
	kill "$pid"; wait "$pid" 2>/dev/null; pid=
	[ -f "$out/headless.eps" ] && awk -v h="$(cat "$out/headless.eps")" -v s="$(cat "$out/studio-$tab.eps")" \
		'BEGIN{printf "  studio (%s) / headless = %.2f\n", "'"$tab"'", s/h}'
done

# The clicks: NAME X Y, in the window's coordinates (the default layout:
# 1180x760, list on the left, tabs on top of the right pane), in turn; no
# action repeats the one before (a click on the selected row or the open
# tab does nothing).
actions=("select alerts 80 183" "tab Log 774 66" "select audit 80 262" "tab Details 405 66"
	"select analytics 80 144" "tab Event stream 672 66" "select afterimage 80 222" "tab Details 405 66")

# stats: the median, the 90th percentile (nearest rank) and the maximum
# of the numbers on standard input.
stats() {
	sort -n | awk '{v[NR]=$1} END{if (NR==0) {print "-"; exit}
		p90=int(NR*0.9+0.999); printf "median %.0f ms, p90 %.0f ms, max %.0f ms (n=%d)", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2), v[p90], v[NR], NR}'
}

if [ "${CLICKS:-1}" != 0 ] && command -v xdotool >/dev/null; then
	AFSTUDIO_TRACE_UI=1 "$out/afstudio" --listen "127.0.0.1:$port" --tab details --select audit >/dev/null 2>"$out/studio-clicks.log" &
	pid=$!
	waitapi || exit 1
	sleep 3
	wid=$(xdotool search --name '^afstudio$' | head -1)
	"$out/client.bin" "http://127.0.0.1:$port" "$token" "$secs" "$workers" >"$out/studio-clicks.client" &
	cpid=$!
	sleep 1
	: >"$out/clicks"
	i=0 end=$((SECONDS + secs - 2))
	while [ "$SECONDS" -lt "$end" ]; do
		read -r kind rest <<<"${actions[i % ${#actions[@]}]}"
		y=${rest##* } rest=${rest% *} x=${rest##* } name=${rest% *}
		echo "$(date +%s%6N) $kind $name" >>"$out/clicks"
		xdotool mousemove --window "$wid" "$x" "$y" click 1
		i=$((i + 1))
		sleep 1.2
	done
	wait "$cpid"
	sleep 2
	kill "$pid"; wait "$pid" 2>/dev/null; pid=
	# Pair each click with the first trace of the same action at or after it.
	sed -n 's/.*msg="ui action" action="\([^"]*\)" callback_unix_us=\([0-9]*\) shown_ms=\([0-9.]*\) painted_ms=\([0-9.]*\).*/\2|\1|\3|\4/p' "$out/studio-clicks.log" >"$out/traces"
	awk -F'|' 'NR==FNR {cb[NR]=$1; act[NR]=$2; painted[NR]=$4; n=NR; next}
		{ at=$1; name=$2; for (i=3; i<=NF; i++) name=name " " $i
		  for (j=1; j<=n; j++) if (!used[j] && act[j]==name && cb[j]>=at) { used[j]=1; printf "%s %.1f %.1f %.1f\n", $2, (cb[j]-at)/1000, painted[j], (cb[j]-at)/1000+painted[j]; break } }' \
		"$out/traces" FS=' ' "$out/clicks" >"$out/latency"
	echo "UI actions during the load (studio-clicks: $(wc -l <"$out/clicks") clicks, $(wc -l <"$out/latency") traced; $(cut -d' ' -f1 "$out/studio-clicks.client") ev/s):"
	for kind in select tab; do
		echo "  $kind: click to callback $(awk -v k="$kind" '$1==k{print $2}' "$out/latency" | stats)"
		echo "  $kind: callback to painted $(awk -v k="$kind" '$1==k{print $3}' "$out/latency" | stats)"
		echo "  $kind: click to painted $(awk -v k="$kind" '$1==k{print $4}' "$out/latency" | stats)"
	done
fi
