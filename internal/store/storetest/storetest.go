// Package storetest is the contract suite of store.Store: every
// implementation runs the same cases (the bolt store in internal/store,
// the etcd store against a real three-member cluster). A case that needs
// something a backend cannot offer (a second writer on the same data, a
// way to compact) is skipped with the reason.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Option adds a backend capability to Run.
type Option func(*config)

type config struct {
	peer    func(t *testing.T, s store.Store) store.Store
	compact func(t *testing.T, s store.Store)
}

// Peer gives the suite a second Store on the same data as s, as a second
// failoverd node would open it (etcd: another client on the same prefix).
// Without it the cases about two writers are skipped.
func Peer(open func(t *testing.T, s store.Store) store.Store) Option {
	return func(c *config) { c.peer = open }
}

// Compact gives the suite a way to make s forget the changes before its
// current revision (etcd: compact; bolt: push them out of the watch
// backlog). Without it the compaction case is skipped.
func Compact(compact func(t *testing.T, s store.Store)) Option {
	return func(c *config) { c.compact = compact }
}

// Run runs every case of the contract. open returns a new, empty store
// whose cleanup it registers on t.
func Run(t *testing.T, open func(t *testing.T) store.Store, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, open func(t *testing.T) store.Store, c config)
	}{
		{"PutGetDelete", testPutGetDelete},
		{"List", testList},
		{"Conditions", testConditions},
		{"Rejects", testRejects},
		{"EventsOrderAndPaging", testEventsOrderAndPaging},
		{"AuditEvents", testAuditEvents},
		{"CopiesDoNotAlias", testCopiesDoNotAlias},
		{"Revisions", testRevisions},
		{"LoadThenWatch", testLoadThenWatch},
		{"WatchSeesPeer", testWatchSeesPeer},
		{"WatchCompacted", testWatchCompacted},
		{"WatchEndsWithContext", testWatchEndsWithContext},
		{"TTL", testTTL},
		{"Ephemeral", testEphemeral},
		{"SequencesAcrossWriters", testSequencesAcrossWriters},
		{"ConcurrentCAS", testConcurrentCAS},
		{"Close", testClose},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open, c) })
	}
}

const (
	hc   = "health-checks"
	wait = 10 * time.Second
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func commit(t *testing.T, s store.Store, b store.Batch) store.CommitResult {
	t.Helper()
	res, err := s.Commit(ctxT(t), b)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

// event returns an encoder that embeds the assigned seq, as real events do.
func event(label string) func(uint64) []byte {
	return func(seq uint64) []byte { return []byte(fmt.Sprintf("%s#%d", label, seq)) }
}

func events(labels ...string) []func(uint64) []byte {
	out := make([]func(uint64) []byte, len(labels))
	for i, l := range labels {
		out[i] = event(l)
	}
	return out
}

func put(bucket, key, value string) store.KV {
	return store.KV{Bucket: bucket, Key: key, Value: []byte(value)}
}

func del(bucket, key string) store.KV { return store.KV{Bucket: bucket, Key: key} }

// idem is an idempotency record as the server writes it: with a TTL.
func idem(key, value string) store.KV {
	return store.KV{Bucket: store.BucketIdempotency, Key: key, Value: []byte(value), TTL: 24 * time.Hour}
}

func sameKVs(a, b []store.KV) bool {
	return slices.EqualFunc(a, b, func(x, y store.KV) bool {
		return x.Bucket == y.Bucket && x.Key == y.Key && bytes.Equal(x.Value, y.Value)
	})
}

func showKVs(kvs []store.KV) string {
	var parts []string
	for _, kv := range kvs {
		parts = append(parts, fmt.Sprintf("%s/%s=%q", kv.Bucket, kv.Key, kv.Value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func testPutGetDelete(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	tests := []struct {
		name    string
		batches []store.Batch
		bucket  string
		key     string
		want    []byte
		wantErr error
	}{
		{name: "put then get", batches: []store.Batch{{Puts: []store.KV{put(hc, "web", `{"v":1}`)}}}, bucket: hc, key: "web", want: []byte(`{"v":1}`)},
		{name: "overwrite", batches: []store.Batch{{Puts: []store.KV{put(hc, "web", "1")}}, {Puts: []store.KV{put(hc, "web", "2")}}}, bucket: hc, key: "web", want: []byte("2")},
		{name: "last put of a key wins", batches: []store.Batch{{Puts: []store.KV{put(hc, "web", "1"), put(hc, "web", "2")}}}, bucket: hc, key: "web", want: []byte("2")},
		{name: "missing key", bucket: hc, key: "web", wantErr: store.ErrNotFound},
		{name: "missing bucket", bucket: "no-such-kind", key: "web", wantErr: store.ErrNotFound},
		{name: "bucket created on demand", batches: []store.Batch{{Puts: []store.KV{put("new-kind", "a", "x")}}}, bucket: "new-kind", key: "a", want: []byte("x")},
		{name: "empty value is present", batches: []store.Batch{{Puts: []store.KV{{Bucket: store.BucketState, Key: "marker"}}}}, bucket: store.BucketState, key: "marker", want: []byte{}},
		{name: "binary value", batches: []store.Batch{{Puts: []store.KV{put(hc, "bin", "\x00\x01\x02raw")}}}, bucket: hc, key: "bin", want: []byte("\x00\x01\x02raw")},
		{name: "key with slashes", batches: []store.Batch{{Puts: []store.KV{put(store.BucketState, "health/web/dc1", "up")}}}, bucket: store.BucketState, key: "health/web/dc1", want: []byte("up")},
		{name: "delete", batches: []store.Batch{{Puts: []store.KV{put(hc, "web", "1")}}, {Deletes: []store.KV{del(hc, "web")}}}, bucket: hc, key: "web", wantErr: store.ErrNotFound},
		{name: "delete missing key and bucket is a no-op", batches: []store.Batch{{Deletes: []store.KV{del(hc, "x"), del("nope", "x")}}}, bucket: hc, key: "x", wantErr: store.ErrNotFound},
		{name: "deletes run after puts", batches: []store.Batch{{Puts: []store.KV{put(hc, "web", "1")}, Deletes: []store.KV{del(hc, "web")}}}, bucket: hc, key: "web", wantErr: store.ErrNotFound},
		{name: "idempotency returns exact bytes", batches: []store.Batch{{Puts: []store.KV{idem("req-1", "\x01\x00raw")}}}, bucket: store.BucketIdempotency, key: "req-1", want: []byte("\x01\x00raw")},
		{name: "idempotency delete", batches: []store.Batch{{Puts: []store.KV{idem("req-1", "r")}}, {Deletes: []store.KV{del(store.BucketIdempotency, "req-1")}}}, bucket: store.BucketIdempotency, key: "req-1", wantErr: store.ErrNotFound},
		{name: "ephemeral reads like any record", batches: []store.Batch{{Puts: []store.KV{{Bucket: store.BucketState, Key: "health/web/dc1", Value: []byte("up"), Ephemeral: true}}}}, bucket: store.BucketState, key: "health/web/dc1", want: []byte("up")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			for _, b := range tc.batches {
				commit(t, s, b)
			}
			got, err := s.Get(ctxT(t), tc.bucket, tc.key)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Get err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got == nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("Get = %q, want %q", got, tc.want)
			}
		})
	}
}

func testList(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	commit(t, s, store.Batch{Puts: []store.KV{put(hc, "c", "3"), put(hc, "a", "1"), put(hc, "b", "2"), put(store.BucketState, "a", "other bucket"), put(hc+"-x", "a", "prefix bucket")}})
	commit(t, s, store.Batch{Puts: []store.KV{idem("k2", "r2"), idem("k1", "r1")}})
	tests := []struct {
		bucket string
		want   []store.KV
	}{
		{bucket: hc, want: []store.KV{put(hc, "a", "1"), put(hc, "b", "2"), put(hc, "c", "3")}},
		{bucket: store.BucketIdempotency, want: []store.KV{idem("k1", "r1"), idem("k2", "r2")}},
		{bucket: "replica-sets", want: nil},
		{bucket: "never-written", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.bucket, func(t *testing.T) {
			got, err := s.List(ctxT(t), tc.bucket)
			if err != nil {
				t.Fatal(err)
			}
			if !sameKVs(got, tc.want) {
				t.Fatalf("List = %s, want %s", showKVs(got), showKVs(tc.want))
			}
		})
	}
}

func testConditions(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	tests := []struct {
		name       string
		conds      []store.Condition
		wantFailed string // key named in the conflict, "" for success
	}{
		{name: "value matches", conds: []store.Condition{{Bucket: hc, Key: "web", Value: []byte("v1")}}},
		{name: "value differs", conds: []store.Condition{{Bucket: hc, Key: "web", Value: []byte("v0")}}, wantFailed: `"web"`},
		{name: "absent and absent", conds: []store.Condition{{Bucket: hc, Key: "db", Absent: true}}},
		{name: "absent but present", conds: []store.Condition{{Bucket: hc, Key: "web", Absent: true}}, wantFailed: `"web"`},
		{name: "value but absent", conds: []store.Condition{{Bucket: hc, Key: "db", Value: []byte("v1")}}, wantFailed: `"db"`},
		{name: "nil value but absent", conds: []store.Condition{{Bucket: hc, Key: "db"}}, wantFailed: `"db"`},
		{name: "nil value matches empty", conds: []store.Condition{{Bucket: store.BucketState, Key: "empty"}}},
		{name: "absent in missing bucket", conds: []store.Condition{{Bucket: "no-such", Key: "x", Absent: true}}},
		{name: "idempotency compares stored bytes", conds: []store.Condition{{Bucket: store.BucketIdempotency, Key: "req", Value: []byte("resp")}}},
		{name: "ephemeral compares stored bytes", conds: []store.Condition{{Bucket: store.BucketState, Key: "eph", Value: []byte("e")}}},
		{name: "a condition on a key the batch writes", conds: []store.Condition{{Bucket: hc, Key: "new", Absent: true}}},
		{name: "second of two fails", conds: []store.Condition{{Bucket: hc, Key: "web", Value: []byte("v1")}, {Bucket: store.BucketState, Key: "web", Absent: true}}, wantFailed: `state/"web"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			ctx := ctxT(t)
			commit(t, s, store.Batch{Puts: []store.KV{put(hc, "web", "v1"), put(store.BucketState, "web", "s"), {Bucket: store.BucketState, Key: "empty"}, idem("req", "resp"),
				{Bucket: store.BucketState, Key: "eph", Value: []byte("e"), Ephemeral: true}}})
			seq0, err := s.LastSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Commit(ctx, store.Batch{
				Conditions: tc.conds,
				Puts:       []store.KV{put(hc, "web", "v2"), put(hc, "new", "n"), idem("req2", "r2")},
				Deletes:    []store.KV{del(store.BucketState, "web")},
				Events:     events("changed"),
				Audit:      events("audited"),
			})
			if tc.wantFailed == "" {
				if err != nil || len(res.Seqs) != 2 {
					t.Fatalf("Commit = (%v, %v), want two seqs", res, err)
				}
				if got, _ := s.Get(ctx, hc, "web"); string(got) != "v2" {
					t.Fatalf("web = %q after successful commit", got)
				}
				return
			}
			if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), tc.wantFailed) {
				t.Fatalf("Commit err = %v, want ErrConflict naming %s", err, tc.wantFailed)
			}
			// Nothing of the batch may be visible.
			if got, _ := s.Get(ctx, hc, "web"); string(got) != "v1" {
				t.Errorf("web = %q, want untouched v1", got)
			}
			if _, err := s.Get(ctx, store.BucketState, "web"); err != nil {
				t.Errorf("delete applied despite conflict: %v", err)
			}
			for _, k := range []struct{ b, k string }{{hc, "new"}, {store.BucketIdempotency, "req2"}} {
				if _, err := s.Get(ctx, k.b, k.k); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s/%s written despite conflict: %v", k.b, k.k, err)
				}
			}
			if seq, _ := s.LastSeq(ctx); seq != seq0 {
				t.Errorf("LastSeq = %d, want %d: event appended despite conflict", seq, seq0)
			}
			if audit, _ := s.AuditEvents(ctx, 0, 10); len(audit) != 0 {
				t.Errorf("audit log = %q, audit event appended despite conflict", audit)
			}
		})
	}
}

func testRejects(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	ok := put(hc, "a", "1")
	tests := []struct {
		name    string
		ctx     context.Context
		batch   store.Batch
		wantErr error
		wantMsg string
	}{
		{name: "canceled context", ctx: canceled, batch: store.Batch{Puts: []store.KV{ok}, Events: events("e")}, wantErr: context.Canceled},
		{name: "put to events", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, put(store.BucketEvents, "x", "1")}}, wantMsg: "Batch.Events"},
		{name: "delete from events", ctx: bg, batch: store.Batch{Puts: []store.KV{ok}, Deletes: []store.KV{del(store.BucketEvents, "x")}}, wantMsg: "Batch.Events"},
		{name: "put to a store bucket", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, put("_meta", "x", "1")}}, wantMsg: "reserved"},
		{name: "delete from a store bucket", ctx: bg, batch: store.Batch{Puts: []store.KV{ok}, Deletes: []store.KV{del("_meta", "format")}}, wantMsg: "reserved"},
		{name: "negative TTL", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, {Bucket: hc, Key: "b", Value: []byte("1"), TTL: -time.Second}}}, wantMsg: "negative"},
		{name: "TTL and ephemeral", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, {Bucket: hc, Key: "b", Value: []byte("1"), TTL: time.Hour, Ephemeral: true}}}, wantMsg: "not both"},
		{name: "empty bucket name", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, put("", "b", "1")}}, wantMsg: "bucket name"},
		{name: "slash in bucket name", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, put("a/b", "b", "1")}}, wantMsg: "'/'"},
		{name: "empty key", ctx: bg, batch: store.Batch{Puts: []store.KV{ok, put(hc, "", "1")}}, wantMsg: "empty key"},
		{name: "batch ID with a slash", ctx: bg, batch: store.Batch{ID: "a/b", Puts: []store.KV{ok}}, wantMsg: "batch ID"},
		{name: "batch ID too long", ctx: bg, batch: store.Batch{ID: strings.Repeat("a", store.MaxBatchIDLen+1), Puts: []store.KV{ok}}, wantMsg: "batch ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			_, err := s.Commit(tc.ctx, tc.batch)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(fmt.Sprint(err), tc.wantMsg) {
				t.Fatalf("Commit err = %v, want %v / %q", err, tc.wantErr, tc.wantMsg)
			}
			if _, err := s.Get(bg, hc, "a"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("rejected batch was partly written: %v", err)
			}
			if seq, _ := s.LastSeq(bg); seq != 0 {
				t.Fatalf("LastSeq = %d after rejected batch", seq)
			}
		})
	}
}

func testEventsOrderAndPaging(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("LastSeq on empty store = (%d, %v)", seq, err)
	}
	if got := commit(t, s, store.Batch{Events: events("a", "b", "c")}).Seqs; !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("seqs = %v, want [1 2 3]", got)
	}
	if got := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "x", "1")}}).Seqs; len(got) != 0 {
		t.Fatalf("batch without events got seqs %v", got)
	}
	for i := 4; i <= 10; i++ {
		if got := commit(t, s, store.Batch{Events: events("e")}).Seqs; !slices.Equal(got, []uint64{uint64(i)}) {
			t.Fatalf("seqs = %v, want [%d]", got, i)
		}
	}
	tests := []struct {
		after uint64
		limit int
		want  []string
	}{
		{after: 0, limit: 3, want: []string{"a#1", "b#2", "c#3"}},
		{after: 3, limit: 3, want: []string{"e#4", "e#5", "e#6"}},
		{after: 9, limit: 5, want: []string{"e#10"}},
		{after: 10, limit: 5, want: nil},
		{after: 500, limit: 5, want: nil},
		{after: math.MaxUint64, limit: 1, want: nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("after=%d,limit=%d", tc.after, tc.limit), func(t *testing.T) {
			got, err := s.Events(ctx, tc.after, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a []byte, b string) bool { return string(a) == b }) {
				t.Fatalf("Events = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := s.Events(ctx, 0, 0); err == nil {
		t.Fatal("Events with limit 0 must fail, not silently return nothing")
	}
	if seq, _ := s.LastSeq(ctx); seq != 10 {
		t.Fatalf("LastSeq = %d, want 10", seq)
	}
}

func testAuditEvents(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	res := commit(t, s, store.Batch{Events: events("health"), Audit: events("audit", "audit")})
	if !slices.Equal(res.Seqs, []uint64{1, 2, 3}) {
		t.Fatalf("seqs = %v, want events then audit events: [1 2 3]", res.Seqs)
	}
	commit(t, s, store.Batch{Events: events("health"), Audit: events("audit")})
	evs, err := s.Events(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%q", evs), `["health#1" "audit#2" "audit#3" "health#4" "audit#5"]`; got != want {
		t.Fatalf("event log = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		after uint64
		limit int
		want  string
	}{
		{0, 10, `["audit#2" "audit#3" "audit#5"]`},
		{2, 1, `["audit#3"]`},
		{3, 10, `["audit#5"]`},
		{5, 10, `[]`},
	} {
		got, err := s.AuditEvents(ctx, tc.after, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%q", got) != tc.want {
			t.Errorf("AuditEvents(%d, %d) = %q, want %s", tc.after, tc.limit, got, tc.want)
		}
	}
	if _, err := s.AuditEvents(ctx, 0, 0); err == nil {
		t.Fatal("AuditEvents with limit 0 must fail")
	}
}

func testCopiesDoNotAlias(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	ctx := ctxT(t)
	s := open(t)
	in := []byte("original")
	commit(t, s, store.Batch{Puts: []store.KV{{Bucket: hc, Key: "web", Value: in}, {Bucket: store.BucketIdempotency, Key: "req", Value: in, TTL: time.Hour}},
		Events: []func(uint64) []byte{func(uint64) []byte { return in }}})
	copy(in, "MUTATED!")
	got, err := s.Get(ctx, hc, "web")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := s.Get(ctx, store.BucketIdempotency, "req")
	list, _ := s.List(ctx, hc)
	evs, _ := s.Events(ctx, 0, 1)
	_, loaded, _ := s.Load(ctx, hc)
	results := [][]byte{got, rec, list[0].Value, evs[0], loaded[hc][0].Value}
	for _, r := range results {
		if string(r) != "original" {
			t.Fatalf("stored value aliased the caller's slice: %q", r)
		}
		copy(r, "MUTATED!")
	}
	if again, _ := s.Get(ctx, hc, "web"); string(again) != "original" {
		t.Fatalf("mutating a returned slice changed the store: %q", again)
	}
	if again, _ := s.Events(ctx, 0, 1); string(again[0]) != "original" {
		t.Fatalf("mutating a returned event changed the store: %q", again[0])
	}
}

// testRevisions: every commit gets a higher revision, and Load reports
// the revision of the last commit it includes.
func testRevisions(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	rev0, _, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prev := rev0
	for i, b := range []store.Batch{
		{Puts: []store.KV{put(hc, "a", "1")}},
		{Events: events("e")},
		{Deletes: []store.KV{del(hc, "a")}},
		{Puts: []store.KV{idem("r", "x")}, Audit: events("a")},
		{},
	} {
		res := commit(t, s, b)
		if res.Rev <= prev {
			t.Fatalf("commit %d: revision %d, not above the previous %d", i, res.Rev, prev)
		}
		prev = res.Rev
		rev, kvs, err := s.Load(ctx, hc, store.BucketIdempotency)
		if err != nil {
			t.Fatal(err)
		}
		if rev < res.Rev {
			t.Fatalf("Load after commit %d: revision %d, below the commit's %d", i, rev, res.Rev)
		}
		if _, ok := kvs[hc]; !ok {
			t.Fatalf("Load did not return the asked bucket %q (empty buckets are present, empty)", hc)
		}
	}
	rev, kvs, err := s.Load(ctx, hc, store.BucketIdempotency, "never-written")
	if err != nil {
		t.Fatal(err)
	}
	if rev < prev || len(kvs) != 3 || len(kvs[hc]) != 0 || !sameKVs(kvs[store.BucketIdempotency], []store.KV{idem("r", "x")}) {
		t.Fatalf("Load = (%d, %v), want rev ≥ %d with the idempotency record only", rev, kvs, prev)
	}
}

// recv reads the next watch event, failing the test after wait.
func recv(t *testing.T, ch <-chan store.WatchEvent) store.WatchEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch channel closed")
			}
			if isProgress(ev) {
				continue
			}
			return ev
		case <-deadline:
			t.Fatalf("no watch event within %s", wait)
		}
	}
}

// isProgress is a watch event that only says how far the watch has come.
func isProgress(ev store.WatchEvent) bool { return len(ev.Changes) == 0 && ev.Err == nil }

// expectQuiet fails if ch delivers anything within d.
func expectQuiet(t *testing.T, ch <-chan store.WatchEvent, d time.Duration) {
	t.Helper()
	quiet := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch channel closed")
			}
			if isProgress(ev) {
				continue
			}
			t.Fatalf("unexpected watch event: rev %d %s (err %v)", ev.Rev, showChanges(ev.Changes), ev.Err)
		case <-quiet:
			return
		}
	}
}

func showChanges(cs []store.Change) string {
	var parts []string
	for _, c := range cs {
		if c.Deleted {
			parts = append(parts, fmt.Sprintf("-%s/%s", c.Bucket, c.Key))
		} else {
			parts = append(parts, fmt.Sprintf("+%s/%s=%q", c.Bucket, c.Key, c.Value))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func change(bucket, key, value string) store.Change {
	return store.Change{Bucket: bucket, Key: key, Value: []byte(value)}
}

func deleted(bucket, key string) store.Change {
	return store.Change{Bucket: bucket, Key: key, Deleted: true}
}

func eventChange(seq uint64, label string) store.Change {
	return change(store.BucketEvents, store.SeqKey(seq), fmt.Sprintf("%s#%d", label, seq))
}

func sameChanges(a, b []store.Change) bool {
	return slices.EqualFunc(a, b, func(x, y store.Change) bool {
		return x.Bucket == y.Bucket && x.Key == y.Key && x.Deleted == y.Deleted && bytes.Equal(x.Value, y.Value) && (x.Value == nil) == (y.Value == nil)
	})
}

// expectCommit reads the watch event of one commit and checks it.
func expectCommit(t *testing.T, ch <-chan store.WatchEvent, res store.CommitResult, want ...store.Change) {
	t.Helper()
	ev := recv(t, ch)
	if ev.Err != nil {
		t.Fatalf("watch error: %v", ev.Err)
	}
	if ev.Rev != res.Rev || !sameChanges(ev.Changes, want) {
		t.Fatalf("watch event = rev %d %s, want rev %d %s", ev.Rev, showChanges(ev.Changes), res.Rev, showChanges(want))
	}
}

// testLoadThenWatch: Load, then Watch from its revision, sees every later
// commit exactly once, in order, with exactly what it changed — and
// nothing Load already returned.
func testLoadThenWatch(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	commit(t, s, store.Batch{Puts: []store.KV{put(hc, "before", "b"), put(store.BucketState, "gone", "g")}, Events: events("old")})
	rev, kvs, err := s.Load(ctx, hc, store.BucketState)
	if err != nil {
		t.Fatal(err)
	}
	if !sameKVs(kvs[hc], []store.KV{put(hc, "before", "b")}) {
		t.Fatalf("Load = %s", showKVs(kvs[hc]))
	}
	ch := s.Watch(ctx, rev)

	r1 := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "web", "1"), {Bucket: store.BucketState, Key: "empty"}}, Events: events("e")})
	r2 := commit(t, s, store.Batch{
		Puts:    []store.KV{put(hc, "web", "2"), put(hc, "web", "3"), {Bucket: store.BucketState, Key: "eph", Value: []byte("x"), Ephemeral: true}},
		Deletes: []store.KV{del(store.BucketState, "gone"), del(store.BucketState, "never-there")},
		Events:  events("e2"), Audit: events("audit"),
	})
	r3 := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "tmp", "t")}, Deletes: []store.KV{del(hc, "tmp")}}) // net effect: nothing
	r4 := commit(t, s, store.Batch{Deletes: []store.KV{del(hc, "web")}})
	for i, r := range []store.CommitResult{r1, r2, r3, r4} {
		if i > 0 && r.Rev <= rev {
			t.Fatalf("revision did not increase")
		}
		rev = r.Rev
	}
	expectCommit(t, ch, r1, change(hc, "web", "1"), change(store.BucketState, "empty", ""), eventChange(2, "e"))
	expectCommit(t, ch, r2, change(hc, "web", "3"), change(store.BucketState, "eph", "x"), deleted(store.BucketState, "gone"),
		eventChange(3, "e2"), eventChange(4, "audit"))
	// r3 changed nothing a watcher sees, so it is not reported.
	expectCommit(t, ch, r4, deleted(hc, "web"))
	expectQuiet(t, ch, 200*time.Millisecond)

	// A second watcher from an earlier revision replays the same events.
	ch2 := s.Watch(ctx, r1.Rev)
	expectCommit(t, ch2, r2, change(hc, "web", "3"), change(store.BucketState, "eph", "x"), deleted(store.BucketState, "gone"),
		eventChange(3, "e2"), eventChange(4, "audit"))
	expectCommit(t, ch2, r4, deleted(hc, "web"))
	// A watcher from the current revision sees only what comes next.
	ch3 := s.Watch(ctx, r4.Rev)
	r5 := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "after", "a")}})
	expectCommit(t, ch3, r5, change(hc, "after", "a"))
	expectCommit(t, ch, r5, change(hc, "after", "a"))
	expectCommit(t, ch2, r5, change(hc, "after", "a"))
}

// testWatchSeesPeer: a watcher sees the commits of another Store on the
// same data (another node), interleaved with its own, each exactly once
// and in revision order, under concurrent writes.
func testWatchSeesPeer(t *testing.T, open func(t *testing.T) store.Store, c config) {
	if c.peer == nil {
		t.Skip("this backend has one writer per data set (bolt: one process holds the file)")
	}
	a := open(t)
	b := c.peer(t, a)
	ctx := ctxT(t)
	rev, _, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chA, chB := a.Watch(ctx, rev), b.Watch(ctx, rev)
	const perWriter = 20
	var mu sync.Mutex
	want := map[uint64]string{} // rev → key
	var wg sync.WaitGroup
	for w, s := range []store.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				key := fmt.Sprintf("w%d-%02d", w, i)
				res, err := s.Commit(ctx, store.Batch{Puts: []store.KV{put(hc, key, key)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[res.Rev] = key
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for name, ch := range map[string]<-chan store.WatchEvent{"a": chA, "b": chB} {
		var last uint64
		for n := 0; n < 2*perWriter; n++ {
			ev := recv(t, ch)
			if ev.Err != nil {
				t.Fatalf("watcher %s: %v", name, ev.Err)
			}
			if ev.Rev <= last {
				t.Fatalf("watcher %s: revision %d after %d", name, ev.Rev, last)
			}
			last = ev.Rev
			key, ok := want[ev.Rev]
			if !ok || !sameChanges(ev.Changes, []store.Change{change(hc, key, key)}) {
				t.Fatalf("watcher %s: rev %d %s, want %q", name, ev.Rev, showChanges(ev.Changes), key)
			}
		}
		expectQuiet(t, ch, 100*time.Millisecond)
	}
}

func testWatchCompacted(t *testing.T, open func(t *testing.T) store.Store, c config) {
	if c.compact == nil {
		t.Skip("no way to compact this backend")
	}
	s := open(t)
	ctx := ctxT(t)
	old := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "a", "1")}})
	commit(t, s, store.Batch{Puts: []store.KV{put(hc, "a", "2")}})
	c.compact(t, s)
	ev := recv(t, s.Watch(ctx, old.Rev-1))
	if !errors.Is(ev.Err, store.ErrCompacted) {
		t.Fatalf("Watch from a compacted revision = rev %d %s err %v, want ErrCompacted", ev.Rev, showChanges(ev.Changes), ev.Err)
	}
	// Relisting recovers: Load, then watch from its revision.
	rev, kvs, err := s.Load(ctx, hc)
	if err != nil || !sameKVs(kvs[hc], []store.KV{put(hc, "a", "2")}) {
		t.Fatalf("Load = %v, %v", kvs, err)
	}
	ch := s.Watch(ctx, rev)
	res := commit(t, s, store.Batch{Puts: []store.KV{put(hc, "a", "3")}})
	expectCommit(t, ch, res, change(hc, "a", "3"))
}

func testWatchEndsWithContext(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	rev, _, err := s.Load(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Watch(ctx, rev)
	cancel()
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the watch channel did not close after its context ended")
		}
	}
}

// testTTL: a record with a TTL is visible for its TTL, then absent for
// Get, List, Load and Conditions, and the store removes it by itself,
// reporting the deletion to watchers.
func testTTL(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	const ttl = 2 * time.Second
	rev, _, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(ctx, rev)
	start := time.Now()
	res := commit(t, s, store.Batch{Puts: []store.KV{
		{Bucket: store.BucketIdempotency, Key: "short", Value: []byte("s"), TTL: ttl},
		{Bucket: store.BucketIdempotency, Key: "long", Value: []byte("l"), TTL: time.Hour},
		put(store.BucketIdempotency, "forever", "f"),
	}})
	expectCommit(t, ch, res, change(store.BucketIdempotency, "short", "s"), change(store.BucketIdempotency, "long", "l"), change(store.BucketIdempotency, "forever", "f"))
	if got, err := s.Get(ctx, store.BucketIdempotency, "short"); err != nil || string(got) != "s" {
		t.Fatalf("short right after commit = (%q, %v)", got, err)
	}
	// Rewriting a record without TTL makes it permanent.
	commit(t, s, store.Batch{Puts: []store.KV{{Bucket: store.BucketIdempotency, Key: "made-permanent", Value: []byte("m"), TTL: ttl}}})
	r := commit(t, s, store.Batch{Puts: []store.KV{put(store.BucketIdempotency, "made-permanent", "m2")}})
	recv(t, ch)
	expectCommit(t, ch, r, change(store.BucketIdempotency, "made-permanent", "m2"))

	// Invisible once the TTL has passed — at the latest a little after,
	// for clocks — whether or not it has been removed yet.
	for {
		_, err := s.Get(ctx, store.BucketIdempotency, "short")
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > ttl+time.Second {
			t.Fatalf("record with TTL %s still visible after %s", ttl, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < ttl-100*time.Millisecond {
		t.Fatalf("record with TTL %s gone after %s", ttl, elapsed)
	}
	time.Sleep(50 * time.Millisecond)
	kvs, err := s.List(ctx, store.BucketIdempotency)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.KV{put(store.BucketIdempotency, "forever", "f"), put(store.BucketIdempotency, "long", "l"), put(store.BucketIdempotency, "made-permanent", "m2")}
	if !sameKVs(kvs, want) {
		t.Fatalf("List = %s, want %s", showKVs(kvs), showKVs(want))
	}
	if _, loaded, err := s.Load(ctx, store.BucketIdempotency); err != nil || !sameKVs(loaded[store.BucketIdempotency], want) {
		t.Fatalf("Load = %v, %v", loaded, err)
	}
	// Absent for conditions: an expired key can be claimed again.
	if _, err := s.Commit(ctx, store.Batch{Conditions: []store.Condition{{Bucket: store.BucketIdempotency, Key: "short", Value: []byte("s")}}}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("condition matched an expired record: %v", err)
	}
	commit(t, s, store.Batch{Conditions: []store.Condition{{Bucket: store.BucketIdempotency, Key: "short", Absent: true}}})

	// The store removes it by itself (bolt: in a later commit, which the
	// loop makes; etcd: when its lease ends) and tells watchers.
	deadline := time.Now().Add(wait + ttl)
	for {
		commit(t, s, store.Batch{})
		select {
		case ev := <-ch:
			if ev.Err != nil {
				t.Fatal(ev.Err)
			}
			if !sameChanges(ev.Changes, []store.Change{deleted(store.BucketIdempotency, "short")}) {
				t.Fatalf("watch event = %s, want the expired record's deletion", showChanges(ev.Changes))
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the expired record's deletion was not reported within %s", wait+ttl)
		}
	}
}

// testEphemeral: a record written Ephemeral by one Store vanishes for
// everyone when that Store closes.
func testEphemeral(t *testing.T, open func(t *testing.T) store.Store, c config) {
	if c.peer == nil {
		t.Skip("ephemeral records outlive nothing here: a backend with one writer writes them as plain records")
	}
	a := open(t)
	b := c.peer(t, a)
	ctx := ctxT(t)
	commit(t, a, store.Batch{Puts: []store.KV{{Bucket: store.BucketState, Key: "health/web/dc1", Value: []byte("up"), Ephemeral: true}, put(store.BucketState, "kept", "k")}})
	if got, err := b.Get(ctx, store.BucketState, "health/web/dc1"); err != nil || string(got) != "up" {
		t.Fatalf("peer reads the ephemeral record = (%q, %v)", got, err)
	}
	rev, _, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := b.Watch(ctx, rev)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	ev := recv(t, ch)
	if ev.Err != nil || !sameChanges(ev.Changes, []store.Change{deleted(store.BucketState, "health/web/dc1")}) {
		t.Fatalf("after the writer closed: watch event %s err %v, want the ephemeral record's deletion", showChanges(ev.Changes), ev.Err)
	}
	if _, err := b.Get(ctx, store.BucketState, "health/web/dc1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ephemeral record after its writer closed: %v", err)
	}
	if got, err := b.Get(ctx, store.BucketState, "kept"); err != nil || string(got) != "k" {
		t.Fatalf("plain record after its writer closed = (%q, %v)", got, err)
	}
}

// testSequencesAcrossWriters: events and audit events from concurrent
// writers share one dense sequence, and each writer learns exactly the
// seqs its events got.
func testSequencesAcrossWriters(t *testing.T, open func(t *testing.T) store.Store, c config) {
	a := open(t)
	writers := []store.Store{a, a}
	if c.peer != nil {
		writers[1] = c.peer(t, a)
	}
	ctx := ctxT(t)
	const perWriter = 15
	var mu sync.Mutex
	got := map[uint64]string{} // seq → label
	var wg sync.WaitGroup
	for w, s := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				ev, au := fmt.Sprintf("w%d-%d-event", w, i), fmt.Sprintf("w%d-%d-audit", w, i)
				res, err := s.Commit(ctx, store.Batch{Events: events(ev), Audit: events(au)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Seqs) != 2 || res.Seqs[1] != res.Seqs[0]+1 {
					t.Errorf("seqs = %v, want two consecutive", res.Seqs)
					return
				}
				mu.Lock()
				got[res.Seqs[0]], got[res.Seqs[1]] = ev, au
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	n := uint64(len(got))
	if n != 2*2*perWriter {
		t.Fatalf("%d distinct seqs, want %d", n, 2*2*perWriter)
	}
	for _, s := range writers {
		if last, err := s.LastSeq(ctx); err != nil || last != n {
			t.Fatalf("LastSeq = (%d, %v), want %d", last, err, n)
		}
		evs, err := s.Events(ctx, 0, int(n)+10)
		if err != nil {
			t.Fatal(err)
		}
		audit, err := s.AuditEvents(ctx, 0, int(n)+10)
		if err != nil {
			t.Fatal(err)
		}
		var wantAudit []string
		for seq := uint64(1); seq <= n; seq++ {
			label, ok := got[seq]
			if !ok {
				t.Fatalf("seq %d was never assigned: the sequence has a gap", seq)
			}
			if want := fmt.Sprintf("%s#%d", label, seq); string(evs[seq-1]) != want {
				t.Fatalf("event %d = %q, want %q", seq, evs[seq-1], want)
			}
			if strings.HasSuffix(label, "-audit") {
				wantAudit = append(wantAudit, fmt.Sprintf("%s#%d", label, seq))
			}
		}
		if fmt.Sprintf("%q", audit) != fmt.Sprintf("%q", wantAudit) {
			t.Fatalf("audit log = %q, want %q", audit, wantAudit)
		}
	}
}

// testConcurrentCAS: writers on two Stores (or two goroutines, for a
// backend with one writer) increment one counter by compare-and-swap;
// no increment is lost and none is counted twice.
func testConcurrentCAS(t *testing.T, open func(t *testing.T) store.Store, c config) {
	a := open(t)
	writers := []store.Store{a, a}
	if c.peer != nil {
		writers[1] = c.peer(t, a)
	}
	ctx := ctxT(t)
	commit(t, a, store.Batch{Puts: []store.KV{put(store.BucketState, "counter", "0")}})
	const perWriter = 15
	var conflicts sync.Map
	var wg sync.WaitGroup
	for w, s := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; {
				cur, err := s.Get(ctx, store.BucketState, "counter")
				if err != nil {
					t.Error(err)
					return
				}
				n, err := strconv.Atoi(string(cur))
				if err != nil {
					t.Error(err)
					return
				}
				_, err = s.Commit(ctx, store.Batch{
					Conditions: []store.Condition{{Bucket: store.BucketState, Key: "counter", Value: cur}},
					Puts:       []store.KV{put(store.BucketState, "counter", strconv.Itoa(n+1)), put(hc, fmt.Sprintf("inc-%03d", n+1), fmt.Sprint(w))},
				})
				switch {
				case errors.Is(err, store.ErrConflict):
					conflicts.Store(w, true)
					continue
				case err != nil:
					t.Error(err)
					return
				}
				i++
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	total := len(writers) * perWriter
	if got, _ := a.Get(ctx, store.BucketState, "counter"); string(got) != strconv.Itoa(total) {
		t.Fatalf("counter = %s, want %d", got, total)
	}
	kvs, err := a.List(ctx, hc)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != total {
		t.Fatalf("%d increments recorded, want %d", len(kvs), total)
	}
}

func testClose(t *testing.T, open func(t *testing.T) store.Store, _ config) {
	s := open(t)
	ctx := ctxT(t)
	rev, _, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Watch(ctx, rev)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if _, err := s.Get(ctx, hc, "x"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Commit(ctx, store.Batch{Puts: []store.KV{put(hc, "x", "1")}}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Commit after Close = %v, want ErrClosed", err)
	}
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if ev.Err != nil && !errors.Is(ev.Err, store.ErrClosed) {
				t.Fatalf("watch ended with %v, want ErrClosed", ev.Err)
			}
		case <-time.After(wait):
			t.Fatal("the watch did not end when the store closed")
		}
	}
}
