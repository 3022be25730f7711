#!/usr/bin/env bash
# Takes the README's screenshots from the real app under Xvfb:
# docs/screenshots/{live,failed,console}.png. Needs Xvfb, ImageMagick and
# xdotool (apt-get install xvfb imagemagick xdotool). The clicks assume the
# default 1180x760 window on a screen of the same size.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
make build >/dev/null
mkdir -p "$work/home/integrations"
sed -n '/^# slow_missions.star/,/^)$/p' README.md > "$work/home/integrations/slow_missions.star"
cat > "$work/home/integrations/greeter.star" <<'STAR'
# greeter: says hello when a mission starts.

def on_start(event, ctx):
    ctx.state["greeted"] = ctx.state.get("greeted", 0) + 1
    return "hello " + event.data.get("mission_id", "?")

integration(
    name = "greeter",
    priority = NORMAL,
    description = "Greets every mission that starts.",
    handlers = {"mission_started": on_start},
)
STAR
export DISPLAY=:77
Xvfb "$DISPLAY" -screen 0 1180x760x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
HOME="$work/home" ./bin/afstudio --dir "$work/home/integrations" --tab console >"$work/app.log" 2>&1 &
sleep 4
pick() { xdotool mousemove 700 150 click 1; sleep 0.2; xdotool key ctrl+a; xdotool type --delay 10 "$1"; sleep 0.4; xdotool key Escape; sleep 0.2; }
send() { xdotool mousemove 401 379 click 1; sleep 0.6; }
pick mission_started; send
pick response_received; send; send
pick mission_failed; send
pick response_received; send
xdotool mousemove 600 463 click 1; sleep 0.5
import -window root "$out/console.png"
xdotool mousemove 405 67 click 1; sleep 1          # Details tab, analytics selected
import -window root "$out/live.png"
sed -i 's/return "hello " + event.data.get("mission_id", "?")/& + greeting_suffix/' "$work/home/integrations/greeter.star"
sleep 1
xdotool mousemove 100 301 click 1; sleep 1.2      # select greeter
import -window root "$out/failed.png"
echo "wrote $out/live.png $out/failed.png $out/console.png"
