package studio

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// terminalEditors need a terminal; started from a window they are run in
// the desktop's terminal emulator.
var terminalEditors = map[string]bool{"vi": true, "vim": true, "nvim": true, "nano": true, "emacs": false, "micro": true, "kak": true, "hx": true, "helix": true, "joe": true, "ne": true}

// editorCommand returns the command that opens path at line with the
// editor named by $VISUAL or $EDITOR (which may carry arguments), or the
// desktop's default opener when neither is set.
func editorCommand(editorEnv, path string, line int) []string {
	fields := strings.Fields(editorEnv)
	if len(fields) == 0 {
		switch runtime.GOOS {
		case "windows":
			return []string{"cmd", "/c", "start", "", path}
		case "darwin":
			return []string{"open", path}
		default:
			return []string{"xdg-open", path}
		}
	}
	name := filepath.Base(fields[0])
	var args []string
	switch name {
	case "code", "codium", "code-insiders", "cursor":
		args = []string{"-g", fmt.Sprintf("%s:%d", path, max(line, 1))}
	case "subl", "sublime_text", "zed":
		args = []string{fmt.Sprintf("%s:%d", path, max(line, 1))}
	case "idea", "pycharm", "goland":
		args = []string{"--line", fmt.Sprint(max(line, 1)), path}
	case "gedit", "kate", "vi", "vim", "nvim", "nano", "emacs", "emacsclient", "micro", "kak", "joe", "ne", "mousepad", "gvim":
		args = []string{fmt.Sprintf("+%d", max(line, 1)), path}
	case "hx", "helix":
		args = []string{fmt.Sprintf("%s:%d", path, max(line, 1))}
	default:
		args = []string{path}
	}
	cmd := append(fields, args...)
	if terminalEditors[name] {
		cmd = append([]string{"x-terminal-emulator", "-e"}, cmd...)
	}
	return cmd
}

// openInEditor opens path at line in the user's editor, without waiting
// for it to close.
func openInEditor(path string, line int) error {
	editor := os.Getenv("VISUAL")
	if editor == "" {
		editor = os.Getenv("EDITOR")
	}
	argv := editorCommand(editor, path, line)
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open %s with %s: %w (set $VISUAL or $EDITOR to your editor)", path, argv[0], err)
	}
	go cmd.Wait() //nolint:errcheck // the editor's exit status is its own business
	return nil
}

// sourceLine returns line n (1-based) of a file, or "" when it cannot be
// read (a builtin module, a vanished file).
func sourceLine(path string, n int) string {
	if n <= 0 {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 1; sc.Scan(); i++ {
		if i == n {
			return strings.TrimRight(sc.Text(), "\r")
		}
	}
	return ""
}
