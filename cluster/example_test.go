package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/afstudio/afstudio/cluster"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// An engine publishes an event to the hosts' stream with an ordinary NATS
// client: the event's JSON data to afstudio.events.EVENT.KEY, its id in
// the Nats-Msg-Id header, so that a retried publish is dropped.
func Example_publish() {
	url := exampleServer() // a JetStream server whose stream afstudio nats init made

	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := nats.NewMsg(cluster.EventSubject("mission_started", "m7")) // afstudio.events.mission_started.m7
	msg.Data = []byte(`{"mission_id": "m7", "target": "alpha"}`)
	msg.Header.Set(jetstream.MsgIDHeader, "ev-1") // Nats-Msg-Id
	for range 2 {                                 // the second time, as a retry after a lost ack
		ack, err := js.PublishMsg(context.Background(), msg)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("stream %s, sequence %d, duplicate %v\n", ack.Stream, ack.Sequence, ack.Duplicate)
	}
	// Output:
	// stream AFSTUDIO, sequence 1, duplicate false
	// stream AFSTUDIO, sequence 1, duplicate true
}

// exampleServer starts an embedded nats-server with JetStream on a
// loopback port, with the stream and buckets of cluster.Init, and returns
// its URL; it runs until the test binary exits.
func exampleServer() string {
	dir, err := os.MkdirTemp("", "afstudio-example-")
	if err != nil {
		panic(err)
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoSigs: true})
	if err != nil {
		panic(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		panic("nats-server not ready in 10 s")
	}
	url := "nats://127.0.0.1:" + strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
	nc, err := nats.Connect(url)
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := cluster.Init(context.Background(), js, cluster.InitOptions{Partitions: 4}); err != nil {
		panic(err)
	}
	return url
}
