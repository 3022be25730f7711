package supervise

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// wineVersion returns the version of Wine this test runs under, or "" on
// Windows.
func wineVersion() string {
	p := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if p.Find() != nil {
		return ""
	}
	r, _, _ := p.Call()
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}

// wineGap skips the test under Wine, which lacks what it needs (what,
// with what it got instead); on Windows it does nothing and the test
// goes on to fail.
func wineGap(t *testing.T, what string, got any) {
	t.Helper()
	if v := wineVersion(); v != "" {
		t.Skipf("Wine %s lacks this: %s (got %v)", v, what, got)
	}
}

// platformHelper runs the Windows helpers:
//   - "limit-then-wait": LimitMemory(1 GiB), print its job's limits, sleep;
//   - "wait-then-limit": the same once a line comes on stdin;
//   - "bomb": LimitMemory(128 MiB), then hold 1 GiB.
func platformHelper(name string) (int, bool) {
	switch name {
	case "limit-then-wait", "wait-then-limit":
		if name == "wait-then-limit" {
			_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		}
		if err := LimitMemory(1 << 30); err != nil {
			fmt.Println("error:", err)
			return 2, true
		}
		info, err := jobLimits(0)
		if err != nil {
			fmt.Println("error:", err)
			return 2, true
		}
		fmt.Printf("limited flags=%#x process_memory=%d\n", info.BasicLimitInformation.LimitFlags, info.ProcessMemoryLimit)
		time.Sleep(30 * time.Second)
		fmt.Println("woke")
		return 0, true
	case "bomb":
		if err := LimitMemory(128 << 20); err != nil {
			fmt.Println("error:", err)
			return 2, true
		}
		var hold [][]byte
		for range 64 {
			b := make([]byte, 16<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			hold = append(hold, b)
		}
		fmt.Printf("survived holding %d MiB\n", len(hold)*16)
		return 0, true
	}
	return 0, false
}

// wineListenerFile makes a listening socket with plain Winsock calls
// where TCPListener.File failed with err because Wine lacks what it
// needs (NtSetInformationFile's FileReplaceCompletionInformation);
// on Windows err is the test's failure.
func wineListenerFile(t *testing.T, err error) (string, *os.File) {
	t.Helper()
	v := wineVersion()
	if v == "" {
		t.Fatalf("the listener's file: %v", err)
	}
	t.Logf("Wine %s lacks TCPListener.File (%v); a plain Winsock socket instead", v, err)
	s, err := windows.Socket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	if err := windows.Bind(s, &windows.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := windows.Listen(s, 16); err != nil {
		t.Fatal(err)
	}
	sa, err := windows.Getsockname(s)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*windows.SockaddrInet4).Port), os.NewFile(uintptr(s), "winsock-listener")
}

// TestNewJobLimits creates the worker's job with a process memory limit
// and reads the limits back.
func TestNewJobLimits(t *testing.T) {
	const flags = workerJobLimits | windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY
	job, err := newJob(flags, 256<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(job)
	info, err := jobLimits(job)
	if err != nil {
		t.Fatal(err)
	}
	if info.BasicLimitInformation.LimitFlags == 0 && info.ProcessMemoryLimit == 0 {
		wineGap(t, "QueryInformationJobObject(JobObjectExtendedLimitInformation) reads no limits", info.BasicLimitInformation)
	}
	if got := info.BasicLimitInformation.LimitFlags; got&flags != flags {
		t.Errorf("limit flags %#x, want %#x set", got, flags)
	}
	if info.ProcessMemoryLimit != 256<<20 {
		t.Errorf("process memory limit %d, want %d", info.ProcessMemoryLimit, 256<<20)
	}
}

// TestKillOnClose puts a helper that limited its memory (a job of its
// own) in the worker's kill-on-close job, in both orders, and checks that
// it dies when the job's handle is closed (release).
func TestKillOnClose(t *testing.T) {
	for _, name := range []string{"limit-then-wait", "wait-then-limit"} {
		t.Run(name, func(t *testing.T) {
			cmd := helperCmd(t, name)
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			ch := lines(out)
			var l string
			if name == "limit-then-wait" {
				l = nextLine(t, ch, "the memory limit")
			}
			release, err := afterStart(cmd.Process)
			if err != nil {
				t.Fatal(err)
			}
			if name == "wait-then-limit" {
				fmt.Fprintln(in, "go")
				l = nextLine(t, ch, "the memory limit")
			}
			if strings.HasPrefix(l, "error:") {
				t.Fatalf("the helper: %s", l)
			}
			begun := time.Now()
			release()
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				t.Logf("the helper ended %s after release: %v", time.Since(begun).Round(time.Millisecond), err)
			case <-time.After(10 * time.Second):
				t.Fatal("the helper still runs 10 s after its kill-on-close job's handle was closed")
			}
			for l := range ch {
				if l == "woke" {
					t.Error("the helper ran to its end")
				}
			}
			want := fmt.Sprintf("limited flags=%#x process_memory=%d", windows.JOB_OBJECT_LIMIT_PROCESS_MEMORY, 1<<30)
			if v := wineVersion(); v != "" && l == "limited flags=0x0 process_memory=0" {
				// The kill above is checked; only the limits cannot be.
				t.Logf("Wine %s lacks this: QueryInformationJobObject(0, JobObjectExtendedLimitInformation) reads no limits (got %s)", v, l)
				return
			}
			if l != want {
				t.Errorf("the helper says %q, want %q", l, want)
			}
		})
	}
}

// TestLimitMemoryEnforced runs a helper that limits itself to 128 MiB and
// then holds 1 GiB: it must die out of memory.
func TestLimitMemoryEnforced(t *testing.T) {
	cmd := helperCmd(t, "bomb")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		wineGap(t, "JOB_OBJECT_LIMIT_PROCESS_MEMORY is not enforced", strings.TrimSpace(string(out)))
		t.Fatalf("the helper did not die under its 128 MiB limit; it says %q", strings.TrimSpace(string(out)))
	}
	if !strings.Contains(stderr.String(), "out of memory") {
		t.Errorf("the helper died (%v) but not out of memory; its stderr begins %q", err, stderr.String()[:min(len(stderr.String()), 500)])
	}
}
