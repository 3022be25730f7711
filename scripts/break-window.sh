#!/usr/bin/env bash
# Proves that the window test can fail: builds deliberately broken copies
# of afstudio (mutants) in a scratch folder and runs the end-to-end window
# test (cmd/afstudio TestWindowE2E) against each. Every mutant must fail,
# at the step that sees the breakage; the unbroken copy must pass.
#
#   scripts/break-window.sh [MUTANT...]     (default: all; needs make deps)
#
# Each mutant is one edit of one source file (a perl substitution that must
# apply). Its screenshots are kept in .build/break-window/MUTANT/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
out=$root/.build/break-window
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# A broken window shows itself quickly; a shorter wait keeps this run short.
export AFSTUDIO_TEST_SCREEN_TIMEOUT=${AFSTUDIO_TEST_SCREEN_TIMEOUT:-45s}
# The test must run (a missing tool fails it rather than skipping it), on
# the binary it builds from each copy.
export CI=1
unset AFSTUDIO_TEST_BIN AFSTUDIO_TEST_RUNNER

# name | file | perl substitution | the step the test must fail at
mutants=(
	"none|||"
	"error-label|studio/studio.go|s/s\.win\.SetContent\(container\.NewBorder\(s\.bar\.object\(\), s\.status\.object\(\), nil, nil, s\.split\)\)/s.win.SetContent(widget.NewLabel(\"internal error: the studio could not start\"))/; s#\"fyne.io/fyne/v2/theme\"#\"fyne.io/fyne/v2/theme\"\n\t\"fyne.io/fyne/v2/widget\"#|the window with every integration live"
	"updates-never-applied|studio/list.go|s/if slices\.Equal\(rows, l\.all\) \{/if len(rows) == len(l.all) \&\& slices.Equal(rows[:0], l.all[:0]) {/|greeter's new generation in the list"
	"argument-file-not-loaded|studio/add.go|s/files := slices\.Concat\(RememberedFiles\(s\.app\.Preferences\(\)\), s\.opts\.Files\)/files := RememberedFiles(s.app.Preferences())/|the window with every integration live"
	"argument-file-fails|studio/add.go|s/if _, err := s\.m\.AddIntegration\(s\.ctx, f, \"\"\)/if _, err := s.m.AddIntegration(s.ctx, f+\".missing\", \"\")/|the window with every integration live"
	"click-selects-nothing|studio/list.go|s/l\.onSelect\(l\.selected\)/_ = l.onSelect/|greeter's details"
	"ctrl-r-unbound|studio/actions.go|s/(c\.AddShortcut\(&desktop\.CustomShortcut\{KeyName: fyne\.KeyR, Modifier: fyne\.KeyModifierShortcutDefault\}, )func\(fyne\.Shortcut\) \{ s\.reload\(s\.selected\) \}/\$1func(fyne.Shortcut) {}/|the reload of Ctrl+R"
	"no-hand-off|control/instance/instance.go|s/if !answers\(ctx, addr, time\.Second\) \{/if true {/|a second afstudio"
	"failure-not-shown|studio/details.go|s/d\.errPos\.SetText\(e\.Position\(\)\)/d.errPos.SetText(\"\")/|the failed save with its position"
	"send-does-nothing|studio/console.go|s/widget\.NewButtonWithIcon\(\"Send\", theme\.MailSendIcon\(\), c\.sendNow\)/widget.NewButtonWithIcon(\"Send\", theme.MailSendIcon(), func() {})/|the result of the version that serves"
	"hang-before-window|cmd/afstudio/window.go|s/\ts\.ShowAndRun\(\)/\tselect {}\n\ts.ShowAndRun()/|the window with every integration live"
)

want=("$@")
caught=0 missed=0
for m in "${mutants[@]}"; do
	IFS='|' read -r name file subst step <<<"$m"
	if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
	src=$scratch/$name
	mkdir -p "$src"
	git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$src"
	if [ -n "$file" ]; then
		before=$(cat "$src/$file")
		perl -0pi -e "$subst" "$src/$file"
		if [ "$before" = "$(cat "$src/$file")" ]; then
			echo "ERROR $name: the edit did not apply to $file (the source changed; update this script)"
			missed=$((missed + 1))
			continue
		fi
	fi
	rm -rf "${out:?}/$name" && mkdir -p "$out/$name"
	log=$out/$name/test.log
	(cd "$src" && go test -count=1 -run '^TestWindowE2E$' -artifacts -outputdir "$out/$name" ./cmd/afstudio) >"$log" 2>&1
	rc=$?
	reason=$(grep -m1 -oE 'waiting [0-9a-z.]+ for [^:]+:|a second afstudio [^:]*: want[^,]*|build failed|cannot|undefined: [a-z]+' "$log")
	if [ "$name" = none ]; then
		if [ $rc = 0 ]; then echo "ok      unbroken: the window test passes"; else
			echo "FAIL    unbroken: the window test fails on the real code: $(tail -n 20 "$log")"; missed=$((missed + 1)); fi
	elif [ $rc != 0 ] && grep -q "$step" "$log"; then
		echo "caught  $name: fails at \"$step\""
		caught=$((caught + 1))
	else
		echo "MISSED  $name: want a failure at \"$step\", got exit $rc ${reason:-}"
		missed=$((missed + 1))
	fi
done
echo "break-window: $caught caught, $missed missed (logs and screenshots in ${out#"$root/"})"
[ "$missed" = 0 ]
