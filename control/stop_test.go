package control_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/afstudio/afstudio/control"
	"github.com/afstudio/afstudio/starhost"
	"github.com/afstudio/afstudio/starhost/hosttest"
)

// Stop with a notice stream open returns at once (it used to wait its
// five-second grace, holding the service's lock) and the stream ends: a
// notice published after Stop is not delivered.
func TestStopEndsNoticeStreams(t *testing.T) {
	m := hosttest.New(t)
	s, _ := control.NewService(m, control.ServiceOptions{Options: control.Options{Token: testToken}})
	addr, err := s.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/notices", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	br.ReadString('\n')
	start := time.Now()
	err = s.Stop()
	took := time.Since(start)
	t.Logf("Stop took %v, err %v", took, err)
	m.Notify(starhost.Notice{Kind: starhost.NoticeLog, Message: "after stop"})
	got := make(chan string, 1)
	go func() {
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				got <- "EOF: " + err.Error()
				return
			}
			if strings.Contains(l, "after stop") {
				got <- l
				return
			}
		}
	}()
	select {
	case l := <-got:
		if !strings.HasPrefix(l, "EOF") {
			t.Errorf("stopped API still streams: %q", l)
		}
	case <-time.After(2 * time.Second):
	}
	if took > time.Second {
		t.Errorf("Stop blocked %v (holding Service.mu) with a notice stream open; err %v", took, err)
	}
}
