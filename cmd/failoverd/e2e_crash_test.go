package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// TestCrashLosesNoAcknowledgedWrite: writers hammer the API while
// failoverd is SIGKILLed at a random moment (DESIGN §4.4: "killing
// failoverd at any moment loses no acknowledged write"). After each restart
// on the same data dir:
//   - every object is exactly as its last acknowledged write left it
//     (content and version), or — when a write to it was in flight at the
//     kill — exactly as that write would leave it: never half-written;
//   - an in-flight write retried with its Idempotency-Key is replayed if
//     and only if it had been applied (object and idempotency record are
//     one atomic commit), and applied once otherwise;
//   - acknowledged writes retried with their Idempotency-Key are replayed
//     (Idempotent-Replayed: true, same status, ETag and body), not applied
//     twice;
//   - everything listed decodes strictly and is complete, and nothing is
//     listed that no write created.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	needBins(t)
	t.Parallel()
	const (
		writers    = 3
		totalAcks  = 500
		minKillAck = 50
		maxKillAck = 450
	)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	firstKill := minKillAck + rng.IntN(maxKillAck-minKillAck+1)
	t.Logf("seed %d: first SIGKILL after %d acknowledged writes, second after %d", seed, firstKill, totalAcks)

	dataDir := filepath.Join(t.TempDir(), "data")
	f := startFailoverd(t, dataDir)
	ws := make([]*crashWriter, writers)
	for i := range ws {
		ws[i] = &crashWriter{id: i, rng: rand.New(rand.NewPCG(seed, uint64(i+1))), objs: map[string]*crashObj{}}
	}
	var acks atomic.Int64
	for round, killAt := range []int{firstKill, totalAcks} {
		a := newRawAPI(f)
		killNow := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		start := time.Now()
		startAcks := acks.Load()
		for _, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(t, a, func() {
					if acks.Add(1) >= int64(killAt) {
						once.Do(func() { close(killNow) })
					}
				})
			}()
		}
		writersDone := make(chan struct{})
		go func() { wg.Wait(); close(writersDone) }()
		select {
		case <-killNow:
		case <-writersDone:
			t.Fatalf("round %d: every writer stopped before failoverd was killed (%d acknowledged writes)", round+1, acks.Load())
		case <-time.After(60 * time.Second):
			t.Fatalf("round %d: only %d acknowledged writes after 60s", round+1, acks.Load())
		}
		// Land anywhere in the cycle of the writes in flight (a commit
		// is a few ms of fsync), not always just after an answer.
		time.Sleep(time.Duration(rng.IntN(8000)) * time.Microsecond)
		f.Kill()
		wg.Wait()
		inFlight := 0
		for _, w := range ws {
			if w.failed {
				t.FailNow()
			}
			if w.pending != nil {
				inFlight++
			}
		}
		t.Logf("round %d: SIGKILL after %d acknowledged writes (%d this round in %s), %d writes in flight",
			round+1, acks.Load(), acks.Load()-startAcks, time.Since(start).Round(time.Millisecond), inFlight)

		f = startFailoverd(t, dataDir)
		a = newRawAPI(f)
		verifyCrashState(t, a, ws, rng)
		if t.Failed() {
			t.FailNow() // the writers' view no longer matches: stop here
		}
	}
}

// crashObj is one object a writer owns, as its last acknowledged write
// left it.
type crashObj struct {
	kind    api.Kind
	name    string
	exists  bool
	version uint64
	body    map[string]any // GET body without "url"
}

// crashWrite is one mutating request and, once acknowledged, its answer.
type crashWrite struct {
	obj     *crashObj
	method  string
	path    string
	key     string
	ifMatch uint64
	body    []byte
	// The acknowledgement.
	status int
	etag   string
	resp   map[string]any
}

type crashWriter struct {
	id      int
	rng     *rand.Rand
	objs    map[string]*crashObj
	seq     int
	acked   []*crashWrite
	pending *crashWrite // in flight when failoverd died
	failed  bool
}

// run writes until a request fails at the transport (failoverd died).
func (w *crashWriter) run(t *testing.T, a *rawAPI, onAck func()) {
	for {
		wr := w.next()
		resp, b, err := a.do(wr.method, wr.path, rawOrNil(wr.body), wr.headers())
		if err != nil {
			w.pending = wr
			return
		}
		if resp.StatusCode/100 != 2 {
			t.Errorf("writer %d: %s %s (If-Match %d): status %d: %s", w.id, wr.method, wr.path, wr.ifMatch, resp.StatusCode, b)
			w.failed = true
			return
		}
		if err := w.ack(wr, resp, b); err != nil {
			t.Errorf("writer %d: %v", w.id, err)
			w.failed = true
			return
		}
		onAck()
	}
}

func rawOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func (wr *crashWrite) headers() map[string]string {
	h := map[string]string{"Idempotency-Key": wr.key}
	if wr.ifMatch != 0 {
		h["If-Match"] = `"` + strconv.FormatUint(wr.ifMatch, 10) + `"`
	}
	return h
}

// next picks the writer's next request: create a check or toggle, update
// one (PUT with If-Match), flip a toggle (PATCH with If-Match) or delete
// one (If-Match). Every write changes its object.
func (w *crashWriter) next() *crashWrite {
	w.seq++
	key := fmt.Sprintf("crash-w%d-%d", w.id, w.seq)
	var live []*crashObj
	for _, n := range sortedNames(w.objs) {
		if o := w.objs[n]; o.exists {
			live = append(live, o)
		}
	}
	if len(live) < 2 || w.rng.IntN(4) == 0 {
		o := &crashObj{kind: api.KindHealthCheck, name: fmt.Sprintf("w%d-check-%d", w.id, w.seq)}
		body := checkBody(o.name, w.seq)
		if w.rng.IntN(2) == 0 {
			o.kind, o.name = api.KindBurstToggle, fmt.Sprintf("w%d-toggle-%d", w.id, w.seq)
			body = toggleBody(o.name, w.seq)
		}
		w.objs[o.name] = o
		return &crashWrite{obj: o, method: http.MethodPost, path: "/v1/" + string(o.kind), key: key, body: body}
	}
	o := live[w.rng.IntN(len(live))]
	wr := &crashWrite{obj: o, path: "/v1/" + string(o.kind) + "/" + o.name, key: key, ifMatch: o.version}
	r := w.rng.IntN(20)
	switch {
	case r < 3:
		wr.method = http.MethodDelete
	case o.kind == api.KindBurstToggle && r < 11:
		wr.method = http.MethodPatch
		engaged, _ := o.body["engaged"].(bool)
		wr.body, _ = json.Marshal(map[string]bool{"engaged": !engaged})
	case o.kind == api.KindBurstToggle:
		wr.method, wr.body = http.MethodPut, toggleBody(o.name, w.seq)
	default:
		wr.method, wr.body = http.MethodPut, checkBody(o.name, w.seq)
	}
	return wr
}

// checkBody is a disabled check (never probed: the test is about storage)
// whose content is unique to the write.
func checkBody(name string, n int) []byte {
	b, _ := json.Marshal(map[string]any{"name": name, "site": "dc1", "type": "http", "address": "127.0.0.1:9",
		"path": fmt.Sprintf("/p/%d", n), "headers": map[string]string{"x-write": strconv.Itoa(n)},
		"interval_seconds": 60, "timeout_seconds": 1.5, "enabled": false})
	return b
}

func toggleBody(name string, n int) []byte {
	b, _ := json.Marshal(map[string]any{"name": name, "site": "dc1", "body_engaged": fmt.Sprintf("burst-%d", n)})
	return b
}

// ack records an acknowledged write as the object's state.
func (w *crashWriter) ack(wr *crashWrite, resp *http.Response, b []byte) error {
	wr.status, wr.etag = resp.StatusCode, resp.Header.Get("ETag")
	if wr.method == http.MethodDelete {
		wr.obj.exists, wr.obj.version, wr.obj.body = false, 0, nil
		w.acked = append(w.acked, wr)
		return nil
	}
	m, err := canonical(b)
	if err != nil {
		return fmt.Errorf("%s %s: %w", wr.method, wr.path, err)
	}
	v, err := strconv.ParseUint(strings.Trim(wr.etag, `"`), 10, 64)
	if err != nil || v == 0 {
		return fmt.Errorf("%s %s: ETag %q is not a version", wr.method, wr.path, wr.etag)
	}
	if got, _ := m["version"].(float64); uint64(got) != v {
		return fmt.Errorf("%s %s: ETag %q but body version %v", wr.method, wr.path, wr.etag, m["version"])
	}
	wr.resp = m
	wr.obj.exists, wr.obj.version, wr.obj.body = true, v, m
	w.acked = append(w.acked, wr)
	return nil
}

// canonical decodes an object body, dropping "url" (it names the port of
// the failoverd that answered, which changes with every restart).
func canonical(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("undecodable body %q: %w", b, err)
	}
	delete(m, "url")
	return m, nil
}

// readObj reads an object's current state.
func readObj(t *testing.T, a *rawAPI, o *crashObj) (exists bool, version uint64, body map[string]any) {
	t.Helper()
	resp, b, err := a.do(http.MethodGet, "/v1/"+string(o.kind)+"/"+o.name, nil, nil)
	if err != nil {
		t.Fatalf("GET %s/%s: %v", o.kind, o.name, err)
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return false, 0, nil
	case http.StatusOK:
	default:
		t.Fatalf("GET %s/%s: status %d: %s", o.kind, o.name, resp.StatusCode, b)
	}
	m, err := canonical(b)
	if err != nil {
		t.Fatalf("GET %s/%s: %v", o.kind, o.name, err)
	}
	v, _ := m["version"].(float64)
	if etag := resp.Header.Get("ETag"); etag != fmt.Sprintf(`"%d"`, uint64(v)) {
		t.Errorf("GET %s/%s: ETag %s but body version %v", o.kind, o.name, etag, v)
	}
	return true, uint64(v), m
}

func (o *crashObj) describe() string {
	if !o.exists {
		return "absent"
	}
	b, _ := json.Marshal(o.body)
	return fmt.Sprintf("version %d %s", o.version, b)
}

func describeState(exists bool, version uint64, body map[string]any) string {
	return (&crashObj{exists: exists, version: version, body: body}).describe()
}

// verifyCrashState checks the restarted failoverd against everything the
// writers were told, resolves the writes that were in flight, and replays
// acknowledged writes.
func verifyCrashState(t *testing.T, a *rawAPI, ws []*crashWriter, rng *rand.Rand) {
	t.Helper()
	// 1. Objects without a write in flight are exactly as acknowledged.
	for _, w := range ws {
		for _, n := range sortedNames(w.objs) {
			o := w.objs[n]
			if w.pending != nil && w.pending.obj == o {
				continue
			}
			exists, v, body := readObj(t, a, o)
			if exists != o.exists || v != o.version || !reflect.DeepEqual(body, o.body) {
				t.Errorf("%s/%s after the crash: %s, want the acknowledged %s", o.kind, o.name, describeState(exists, v, body), o.describe())
			}
		}
	}
	// 2. A write in flight is all there or not there at all, and its retry
	// with the same Idempotency-Key agrees: replayed iff it was applied.
	applied, notApplied := 0, 0
	for _, w := range ws {
		wr := w.pending
		if wr == nil {
			continue
		}
		w.pending = nil
		o := wr.obj
		exists, v, body := readObj(t, a, o)
		resp, b, err := a.do(wr.method, wr.path, rawOrNil(wr.body), wr.headers())
		if err != nil {
			t.Fatalf("retry of in-flight %s %s: %v", wr.method, wr.path, err)
		}
		replayed := resp.Header.Get("Idempotent-Replayed") == "true"
		if resp.StatusCode/100 != 2 {
			t.Errorf("retry of in-flight %s %s (object now %s): status %d: %s", wr.method, wr.path, describeState(exists, v, body), resp.StatusCode, b)
			continue
		}
		unchanged := exists == o.exists && v == o.version && reflect.DeepEqual(body, o.body)
		switch {
		case unchanged && replayed:
			t.Errorf("in-flight %s %s: object unchanged (%s) but its Idempotency-Key was recorded: the change and its record were not one commit", wr.method, wr.path, o.describe())
		case !unchanged && !replayed:
			t.Errorf("in-flight %s %s: object changed from %s to %s but the retry was applied again instead of replayed", wr.method, wr.path, o.describe(), describeState(exists, v, body))
		}
		if unchanged {
			notApplied++
		} else {
			applied++
		}
		if err := w.ack(wr, resp, b); err != nil {
			t.Errorf("retry of in-flight write: %v", err)
			continue
		}
		if replayed && (exists != o.exists || v != o.version || !reflect.DeepEqual(body, o.body)) {
			// The replayed answer is what the write did: the stored object
			// must be exactly that, not something half-way.
			t.Errorf("in-flight %s %s was applied as %s, but its recorded answer says %s", wr.method, wr.path, describeState(exists, v, body), o.describe())
		}
	}
	t.Logf("writes in flight at the kill: %d had been applied (replayed on retry), %d had not (applied on retry)", applied, notApplied)

	// 3. Everything listed decodes strictly, is complete, and is known.
	want := map[string]*crashObj{}
	for _, w := range ws {
		for n, o := range w.objs {
			if o.exists {
				want[string(o.kind)+"/"+n] = o
			}
		}
	}
	listed := 0
	for _, k := range []api.Kind{api.KindHealthCheck, api.KindBurstToggle} {
		var page api.List[json.RawMessage]
		a.must(t, http.StatusOK, http.MethodGet, "/v1/"+string(k), nil, &page)
		for _, raw := range page.Items {
			name, err := strictComplete(k, raw)
			if err != nil {
				t.Errorf("listed %s: %v: %s", k, err, raw)
				continue
			}
			o := want[string(k)+"/"+name]
			if o == nil {
				t.Errorf("listed %s/%s, which no acknowledged write left existing", k, name)
				continue
			}
			m, _ := canonical(raw)
			if !reflect.DeepEqual(m, o.body) {
				t.Errorf("listed %s/%s as %s, want %s", k, name, raw, o.describe())
			}
			delete(want, string(k)+"/"+name)
			listed++
		}
	}
	for ref := range want {
		t.Errorf("%s is missing from its list", ref)
	}

	// 4. Acknowledged writes retried with their Idempotency-Key are
	// replayed, not applied twice: each writer's last one (the most at risk)
	// and a few at random.
	var replay []*crashWrite
	for _, w := range ws {
		if n := len(w.acked); n > 0 {
			replay = append(replay, w.acked[n-1])
			for range 3 {
				replay = append(replay, w.acked[rng.IntN(n)])
			}
		}
	}
	for _, wr := range replay {
		resp, b, err := a.do(wr.method, wr.path, rawOrNil(wr.body), wr.headers())
		if err != nil {
			t.Fatalf("replay %s %s: %v", wr.method, wr.path, err)
		}
		if resp.Header.Get("Idempotent-Replayed") != "true" || resp.StatusCode != wr.status || resp.Header.Get("ETag") != wr.etag {
			t.Errorf("retry of acknowledged %s %s (key %s): status %d ETag %s replayed %q, want the original %d ETag %s replayed \"true\": %s",
				wr.method, wr.path, wr.key, resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Idempotent-Replayed"), wr.status, wr.etag, b)
			continue
		}
		if wr.resp != nil {
			if m, err := canonical(b); err != nil || !reflect.DeepEqual(m, wr.resp) {
				t.Errorf("replay of %s %s: body %s, want the original answer", wr.method, wr.path, b)
			}
		}
	}
	// …and replays changed nothing.
	for _, w := range ws {
		for _, n := range sortedNames(w.objs) {
			o := w.objs[n]
			if exists, v, body := readObj(t, a, o); exists != o.exists || v != o.version || !reflect.DeepEqual(body, o.body) {
				t.Errorf("%s/%s after replays: %s, want %s", o.kind, o.name, describeState(exists, v, body), o.describe())
			}
		}
	}
	t.Logf("verified %d live objects (%d writes acknowledged so far), %d idempotent replays", listed, countAcked(ws), len(replay))
}

// strictComplete decodes a listed object rejecting unknown fields and
// checks that everything a write must carry is there.
func strictComplete(k api.Kind, raw json.RawMessage) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	switch k {
	case api.KindHealthCheck:
		var c api.HealthCheck
		if err := dec.Decode(&c); err != nil {
			return "", err
		}
		if !api.ValidName(c.Name) || c.Site == "" || c.Type == "" || c.Address == "" || c.Path == "" ||
			c.IntervalSeconds <= 0 || c.TimeoutSeconds <= 0 || c.Rise <= 0 || c.Fall <= 0 || c.Enabled == nil || c.Version == 0 {
			return "", fmt.Errorf("incomplete health check")
		}
		return c.Name, nil
	default:
		var b api.BurstToggle
		if err := dec.Decode(&b); err != nil {
			return "", err
		}
		if !api.ValidName(b.Name) || b.Site == "" || b.Engaged == nil || b.BodyEngaged == "" || b.BodyReleased == "" || b.Version == 0 {
			return "", fmt.Errorf("incomplete burst toggle")
		}
		return b.Name, nil
	}
}

func countAcked(ws []*crashWriter) int {
	n := 0
	for _, w := range ws {
		n += len(w.acked)
	}
	return n
}

func sortedNames(m map[string]*crashObj) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
