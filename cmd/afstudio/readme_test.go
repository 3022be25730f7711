package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeExample returns the README's example integration that starts
// with the line first, up to the end of its code block.
func readmeExample(t *testing.T, first string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+first+"\n")
	src, _, closed := strings.Cut(rest, "\n```")
	if !ok || !closed {
		t.Fatalf("README.md has no code block starting with %q", first)
	}
	return first + "\n" + src + "\n"
}

// TestReadmeCommandLine: the README's Command line section shows what
// afstudio prints: the usage text as is, emit's output but for the
// durations.
func TestReadmeCommandLine(t *testing.T) {
	usage := readmeExample(t, "$ afstudio -h")
	if got := "$ afstudio -h\n" + runCLI(t, nil, "-h").stdout; usage != got {
		t.Errorf("the README's usage text is not afstudio -h's:\nREADME:\n%s\nafstudio -h:\n%s", usage, got)
	}
	emitted := readmeExample(t, `$ afstudio emit mission_failed '{"mission_id": "m7", "error": "timeout"}'`)
	r := runCLI(t, nil, "emit", "mission_failed", `{"mission_id": "m7", "error": "timeout"}`)
	_, want, _ := strings.Cut(emitted, "\n")
	if normalise([]byte(r.stdout)) != normalise([]byte(want)) {
		t.Errorf("the README's emit example is not what afstudio emit prints:\nREADME:\n%s\nafstudio emit:\n%s", want, r.stdout)
	}
}

// TestReadmeHeadlessExample: the quick start's headless session is what
// afstudio run --headless writes for its input, but for times and
// durations.
func TestReadmeHeadlessExample(t *testing.T) {
	session := readmeExample(t, "$ ./bin/afstudio run --headless --dir ~/my-integrations")
	var input, want []string
	for _, line := range strings.Split(strings.TrimSuffix(session, "\n"), "\n")[1:] {
		if strings.HasPrefix(line, `{"event"`) {
			input = append(input, line)
		} else {
			want = append(want, line)
		}
	}
	r := runCLI(t, strings.NewReader(strings.Join(input, "\n")+"\n"), "run", "--headless", "--dir", t.TempDir())
	wantOut := strings.Join(want, "\n") + "\n"
	if normaliseNotice([]byte(r.stdout)) != normaliseNotice([]byte(wantOut)) {
		t.Errorf("the README's headless example is not what afstudio run --headless writes:\nREADME:\n%s\nafstudio:\n%s", wantOut, r.stdout)
	}
}
