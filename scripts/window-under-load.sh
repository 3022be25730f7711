#!/usr/bin/env bash
# Runs the end-to-end window test (cmd/afstudio TestWindowE2E) RUNS times
# (default 5) with BUSY busy loops (default 8) beside it, to show that it
# waits on the screen, not on time: a loaded machine makes it slower, not
# flaky. Prints each run's exit status and wall time.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
runs=${RUNS:-5} busy=${BUSY:-8}
out=$PWD/.build/window-under-load
rm -rf "$out" && mkdir -p "$out"
go test -c -o "$out/e2e.test" ./cmd/afstudio || exit 1
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
for _ in $(seq "$busy"); do (while :; do :; done) & pids+=($!); done
failed=0
for run in $(seq "$runs"); do
	mkdir -p "$out/$run"
	start=$SECONDS
	(cd cmd/afstudio && "$out/e2e.test" -test.count=1 -test.run '^TestWindowE2E$' -test.artifacts -test.outputdir "$out/$run") >"$out/$run/test.log" 2>&1
	rc=$?
	[ $rc = 0 ] || failed=$((failed + 1))
	echo "run $run: exit $rc, $((SECONDS - start)) s, load average $(cut -d' ' -f1 /proc/loadavg)"
done
echo "window-under-load: $((runs - failed)) of $runs passed with $busy busy loops (logs in ${out#"$PWD/"})"
[ "$failed" = 0 ]
