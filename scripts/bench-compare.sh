#!/usr/bin/env bash
# Compares afstudio with the Python design it replaces, on the same work in
# the same run: `afstudio bench --json` and scripts/python_design_bench.py
# --json (100 generated integrations, starhost/hostbench), alternately,
# ROUNDS times each (default 3, for a noisy machine), then a table of each
# figure's medians (and ranges) and their ratio. Builds nothing: pass the
# binary (default bin/afstudio, which `make bench` builds first).
# BENCH_FLAGS go to both benchmarks (the same flags: -n, -reloads,
# -emit-for); PYTHON picks the interpreter (default python3, 3.10 or newer,
# standard library only).
set -euo pipefail
usage='usage: scripts/bench-compare.sh [AFSTUDIO]  (default bin/afstudio; env ROUNDS=3, BENCH_FLAGS="-emit-for 2s", PYTHON=python3)'

root=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in
-h | --help) echo "$usage"; exit 0 ;;
esac
[ $# -le 1 ] || { echo "$usage" >&2; exit 2; }
bin=${1:-$root/bin/afstudio}
rounds=${ROUNDS:-3}
python=${PYTHON:-python3}
read -ra flags <<<"${BENCH_FLAGS:-}"

[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-compare: ROUNDS must be a positive number, got '$rounds'" >&2; exit 2; }
[ -x "$bin" ] || { echo "bench-compare: no afstudio binary at $bin (make build, or pass its path)"$'\n'"$usage" >&2; exit 2; }
command -v "$python" >/dev/null || { echo "bench-compare: $python is needed to run the Python design (scripts/python_design_bench.py)" >&2; exit 2; }

out=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
trap 'rm -rf "$out"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for r in $(seq "$rounds"); do
	echo "round $r/$rounds: afstudio bench --json ${flags[*]}" >&2
	"$bin" bench -json "${flags[@]}" >"$out/afstudio.$r.json"
	echo "round $r/$rounds: python_design_bench.py --json ${flags[*]}" >&2
	"$python" "$root/scripts/python_design_bench.py" -json "${flags[@]}" >"$out/python.$r.json"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
machine="$(nproc 2>/dev/null || echo '?') CPUs${cpu:+, $cpu}; load average $load_before before, $load_after after"
version=$("$bin" version 2>/dev/null | head -1 || echo "$bin")
"$python" - "$out" "$rounds" "$version" "$machine" <<'EOF'
import json, statistics, sys

out, rounds, version, machine = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {d: [json.load(open(f"{out}/{d}.{r}.json")) for r in range(1, rounds + 1)] for d in ("afstudio", "python")}
a0, p0 = runs["afstudio"][0], runs["python"][0]
print()
print(f"{version} and the Python design (Python {p0['python']}, {p0['python_executable']}): the same work,")
print(f"alternating in one run; medians of {rounds} round(s) each, min–max in parentheses.")
print(f"Machine: {machine}.")
print()

# (label, JSON key, lower is better, format)
rows = [
    ("reload one, p50 (ms)", "reload_p50_ms", True, "{:.3f}"),
    ("reload one, p99 (ms)", "reload_p99_ms", True, "{:.3f}"),
    (f"reload all {a0['n']} (ms, median of 15)", "reload_all_ms", True, "{:.2f}"),
    ("handler calls/s, 1 emitter", "emit_handler_calls_per_s_single_goroutine", False, "{:,.0f}"),
    (f"handler calls/s, {a0['emitters']} emitters (Python: 1 thread, the GIL)", "emit_handler_calls_per_s", False, "{:,.0f}"),
    ("retained memory per integration (KiB)", "retained_kib_per_integration", True, "{:.1f}"),
]

def cell(values, fmt):
    med = statistics.median(values)
    text = fmt.format(med)
    if len(values) > 1:
        text += f" ({fmt.format(min(values))}–{fmt.format(max(values))})"
    return med, text

print("| figure | afstudio | Python | afstudio/Python | better | ahead |")
print("|---|---|---|---|---|---|")
for label, key, lower, fmt in rows:
    a, a_text = cell([r[key] for r in runs["afstudio"]], fmt)
    p, p_text = cell([r[key] for r in runs["python"]], fmt)
    ratio = a / p if p else float("inf")
    if ratio == 1:
        ahead = "even"
    elif (ratio < 1) == lower:
        ahead = f"afstudio, {max(ratio, 1 / ratio):.2f}×"
    else:
        ahead = f"Python, {max(ratio, 1 / ratio):.2f}×"
    print(f"| {label} | {a_text} | {p_text} | {ratio:.2f}× | {'lower' if lower else 'higher'} | {ahead} |")

print()
print("The Python design emits on one thread, so both of its emit rows are one measurement. Python reloads")
print("unchanged modules from their .pyc and compiles a changed one without writing its .pyc (its fastest;")
print("scripts/python_design_bench.py --write-pyc adds the write). Retained memory is Go's in-use heap growth")
print("against the allocations tracemalloc sees: close, not the same measure.")
EOF
