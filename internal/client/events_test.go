package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func testEvent(seq uint64) api.Event {
	return api.Event{
		Seq:     seq,
		Time:    time.Date(2026, 11, 22, 4, 1, 2, int(seq)*int(time.Millisecond), time.UTC),
		Type:    api.EventDecision,
		Object:  "traffic-policies/web",
		Message: fmt.Sprintf("event %d", seq),
	}
}

// writeSSE writes events as failoverd does and flushes them.
func writeSSE(w http.ResponseWriter, evs ...api.Event) {
	for _, e := range evs {
		b, _ := json.Marshal(e)
		fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, b)
	}
	w.(http.Flusher).Flush()
}

// keepOpen sends keepalives until the client goes away.
func keepOpen(w http.ResponseWriter, r *http.Request) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keepalive\n")
			w.(http.Flusher).Flush()
		}
	}
}

func TestEventsList(t *testing.T) {
	f := newFixture(t)
	for seq := uint64(1); seq <= 5; seq++ {
		f.events = append(f.events, testEvent(seq))
	}
	c := f.client(t)
	got, err := c.Events(context.Background(), 2, 2)
	if err != nil || len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 4 {
		t.Fatalf("Events(2, 2) = %+v, %v; want 3 and 4", got, err)
	}
	if _, _, requests := f.stats(); requests[0] != "GET /v1/events?limit=2&since=2" {
		t.Errorf("request = %s", requests[0])
	}
}

var errEnough = errors.New("enough")

func TestFollowEventsResumesAfterDrop(t *testing.T) {
	f := newFixture(t)
	resumedFrom := make(chan string, 1)
	f.sse = func(w http.ResponseWriter, r *http.Request, conn int) {
		switch conn {
		case 1:
			fmt.Fprint(w, ": keepalive\n\n")
			writeSSE(w, testEvent(4), testEvent(5))
			panic(http.ErrAbortHandler) // the connection drops
		default:
			resumedFrom <- r.URL.Query().Get("since") + " " + r.Header.Get("Last-Event-ID")
			// Replays one event the client already has: it must be
			// skipped, not delivered twice.
			writeSSE(w, testEvent(5), testEvent(6), testEvent(7))
			keepOpen(w, r)
		}
	}
	c := f.client(t)
	var got []uint64
	err := c.FollowEvents(context.Background(), 3, func(e api.Event) error {
		if e.Type != api.EventDecision || e.Message != fmt.Sprintf("event %d", e.Seq) {
			t.Errorf("event %+v garbled", e)
		}
		got = append(got, e.Seq)
		if len(got) == 4 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) {
		t.Fatalf("FollowEvents = %v, want fn's error", err)
	}
	if want := []uint64{4, 5, 6, 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if from := <-resumedFrom; from != "5 5" {
		t.Errorf("reconnected with since/Last-Event-ID %q, want \"5 5\"", from)
	}
	_, _, requests := f.stats()
	if requests[0] != "GET /v1/events?follow=1&since=3" {
		t.Errorf("first request = %s", requests[0])
	}
}

func TestFollowEventsReconnectsWhenSilent(t *testing.T) {
	f := newFixture(t)
	f.sse = func(w http.ResponseWriter, r *http.Request, conn int) {
		if conn == 1 {
			writeSSE(w, testEvent(1))
			<-r.Context().Done() // no keepalives: a dead stream
			return
		}
		writeSSE(w, testEvent(2))
		keepOpen(w, r)
	}
	c := f.client(t)
	c.streamIdle = 100 * time.Millisecond
	var got []uint64
	err := c.FollowEvents(context.Background(), 0, func(e api.Event) error {
		got = append(got, e.Seq)
		if e.Seq == 2 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) || !reflect.DeepEqual(got, []uint64{1, 2}) {
		t.Fatalf("FollowEvents = %v, delivered %v; want 1, 2 then fn's error", err, got)
	}
}

func TestFollowEventsKeepalivesAreNotIdle(t *testing.T) {
	f := newFixture(t)
	f.sse = func(w http.ResponseWriter, r *http.Request, conn int) {
		writeSSE(w, testEvent(uint64(conn)))
		keepOpen(w, r)
	}
	sink := &logSink{}
	c := f.client(t, func(cfg *Config) { cfg.Logger = sink.log })
	c.streamIdle = 300 * time.Millisecond // 30 keepalive periods
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := c.FollowEvents(ctx, 0, func(api.Event) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FollowEvents = %v, want ctx's error", err)
	}
	if _, _, requests := f.stats(); len(requests) != 1 {
		t.Errorf("reconnected although keepalives kept coming: %v\n%s", requests, sink.text())
	}
}

func TestFollowEventsFailsFast(t *testing.T) {
	f := newFixture(t)
	c := f.client(t, func(cfg *Config) { cfg.Token = "wrong" })
	err := c.FollowEvents(context.Background(), 0, func(api.Event) error { return nil })
	var ce *Error
	if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Fatalf("FollowEvents = %v, want 401", err)
	}
}

func TestFollowEventsCancel(t *testing.T) {
	f := newFixture(t)
	f.sse = func(w http.ResponseWriter, r *http.Request, _ int) { keepOpen(w, r) }
	c := f.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if err := c.FollowEvents(ctx, 0, func(api.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowEvents = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s to stop", d)
	}
}

func TestParseSSE(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []sseMessage
	}{
		{"failoverd framing", "id: 7\nevent: decision\ndata: {\"seq\":7}\n\n", []sseMessage{{ID: "7", Event: "decision", Data: `{"seq":7}`}}},
		{"keepalive only", ": keepalive\n\n: keepalive\n", nil},
		{"multi-line data", "data: a\ndata:b\ndata\n\n", []sseMessage{{Data: "a\nb\n"}}},
		{"crlf and cr", "id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\r", []sseMessage{{ID: "1", Data: "x"}, {ID: "2", Data: "y"}}},
		{"bom", "\uFEFFdata: x\n\n", []sseMessage{{Data: "x"}}},
		{"id persists, event does not", "id: 3\nevent: health\ndata: a\n\ndata: b\n\n", []sseMessage{{ID: "3", Event: "health", Data: "a"}, {ID: "3", Data: "b"}}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n", []sseMessage{{ID: "1", Data: "a"}, {ID: "1", Data: "b"}}},
		{"unterminated event dropped", "data: a\n\ndata: b", []sseMessage{{Data: "a"}}},
		{"unknown fields and retry ignored", "retry: 10\nfoo: bar\ndata: a\n\n", []sseMessage{{Data: "a"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []sseMessage
			err := parseSSE(strings.NewReader(tc.in), func(m sseMessage) error { got = append(got, m); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	long := "data: " + strings.Repeat("x", maxSSELine) + "\n\n"
	var pe protocolError
	if err := parseSSE(strings.NewReader(long), func(sseMessage) error { return nil }); !errors.As(err, &pe) {
		t.Errorf("over-long line: err = %v, want a protocol error", err)
	}
}

// FuzzParseSSE: arbitrary bytes never panic, and every message failoverd
// could write (one JSON data line, any id) comes back intact, even behind
// a fuzzed prefix that ends with a blank line.
func FuzzParseSSE(f *testing.F) {
	f.Add([]byte("id: 1\nevent: x\ndata: {}\n\n"), uint64(9), "decision", "free text\nwith lines")
	f.Add([]byte(": keepalive\r\n\r"), uint64(0), "", "")
	f.Add([]byte("data\n\n\r\n\n"), uint64(1<<63), "health", "{\"seq\":1}")
	f.Fuzz(func(t *testing.T, prefix []byte, seq uint64, typ, message string) {
		_ = parseSSE(strings.NewReader(string(prefix)), func(m sseMessage) error {
			if strings.ContainsAny(m.Event, "\r\n") || strings.ContainsAny(m.ID, "\r\n\x00") {
				t.Fatalf("field with a line break or NUL: %+v", m)
			}
			return nil
		})

		ev := api.Event{Seq: seq, Type: typ, Message: message}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Skip()
		}
		if strings.ContainsAny(typ, "\r\n") {
			typ = "x" // a type cannot span lines; failoverd's types never do
		}
		stream := fmt.Sprintf("%s\n\nid: %d\nevent: %s\ndata: %s\n\n", prefix, seq, typ, data)
		var last sseMessage
		if err := parseSSE(strings.NewReader(stream), func(m sseMessage) error { last = m; return nil }); err != nil {
			return // e.g. the prefix holds an over-long line
		}
		if last.ID != strconv.FormatUint(seq, 10) || last.Event != typ || last.Data != string(data) {
			t.Fatalf("round trip: got %+v, want id %d event %q data %s", last, seq, typ, data)
		}
	})
}
