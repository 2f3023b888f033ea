package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

var fuzzTemplate struct {
	once sync.Once
	b    []byte
}

// smallStore is a real store with a few records of every layout, small
// enough that a fuzzer gets through many variants a second.
func smallStore(t testing.TB) []byte {
	fuzzTemplate.once.Do(func() {
		dir, err := os.MkdirTemp("", "store-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "failoverd.db")
		s, err := OpenBolt(path, BoltOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			if _, err := s.Commit(context.Background(), Batch{
				Puts:   []KV{put(hc, fmt.Sprintf("c%d", i), strings.Repeat("v", 200)), put(BucketState, fmt.Sprintf("s%d", i), "{}"), idem(fmt.Sprintf("k%d", i), "r")},
				Events: []func(uint64) []byte{event("e")},
				Audit:  []func(uint64) []byte{event("a")},
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if fuzzTemplate.b, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	})
	return bytes.Clone(fuzzTemplate.b)
}

// FuzzOpenBolt: whatever failoverd.db holds — a real store cut short,
// patched anywhere, or replaced by other bytes — OpenBolt answers with an
// error of one line or with a store that works; it never panics. A store
// that opened may still meet damage later (the walk at open reads every
// record, but not every freelist entry): that must be an ErrDamaged error.
func FuzzOpenBolt(f *testing.F) {
	tmpl := smallStore(f)
	n := uint32(len(tmpl))
	f.Add(uint32(0), uint32(0), []byte{})                            // intact
	f.Add(n/2, uint32(0), []byte{})                                  // cut in half
	f.Add(uint32(4096*2+10), uint32(0), []byte{})                    // cut after the meta pages
	f.Add(uint32(0), uint32(16), bytes.Repeat([]byte{0xff}, 64))     // meta 0 garbled
	f.Add(uint32(0), uint32(4096*2), bytes.Repeat([]byte{0xff}, 16)) // freelist header garbled
	f.Add(uint32(0), uint32(4096*3+8), []byte{0x01, 0x00})           // a page's flags
	f.Add(uint32(0), n-100, []byte("garbage at the end"))
	f.Fuzz(func(t *testing.T, cut, at uint32, patch []byte) {
		b := smallStore(t)
		if len(patch) > 0 {
			copy(b[int(at)%len(b):], patch)
		}
		if cut > 0 {
			b = b[:int(cut)%len(b)]
		}
		path := filepath.Join(t.TempDir(), "failoverd.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := OpenBolt(path, BoltOptions{Timeout: 50 * time.Millisecond})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %v", err)
			}
			return
		}
		defer s.Close()
		ctx := context.Background()
		ok := func(err error) {
			t.Helper()
			if err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("store that opened failed with a non-damage error: %v", err)
			}
		}
		for _, k := range append([]api.Kind{}, api.Kinds...) {
			_, err := s.List(ctx, string(k))
			ok(err)
		}
		for _, bucket := range []string{BucketState, BucketIdempotency} {
			_, err := s.List(ctx, bucket)
			ok(err)
		}
		_, err = s.Events(ctx, 0, 100)
		ok(err)
		_, err = s.AuditEvents(ctx, 0, 100)
		ok(err)
		_, err = s.Commit(ctx, Batch{Puts: []KV{put(hc, "new", "x"), idem("new", "r")}, Events: []func(uint64) []byte{event("e")}, Audit: []func(uint64) []byte{event("a")}})
		ok(err)
		if err == nil {
			got, err := s.Get(ctx, hc, "new")
			ok(err)
			if err == nil && string(got) != "x" {
				t.Fatalf("read back %q after a successful commit", got)
			}
		}
	})
}
