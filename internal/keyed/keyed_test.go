package keyed

import (
	"slices"
	"sync"
	"testing"
	"time"
)

type fake struct {
	key     string
	val     int
	updates int
	closed  int
	ran     chan struct{}
}

func TestReconcileAndStopAll(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		have                   []string // workers already running
		want                   map[string]int
		stopAll                bool
		starts, updates, close int
		left                   []string // keys with a worker afterwards
	}{
		{name: "new keys", want: map[string]int{"a": 1, "b": 2}, starts: 2, updates: 2, left: []string{"a", "b"}},
		{name: "kept keys", have: []string{"a", "b"}, want: map[string]int{"a": 1, "b": 2}, updates: 2, left: []string{"a", "b"}},
		{name: "removed keys", have: []string{"a", "b", "c"}, want: map[string]int{"b": 2}, updates: 1, close: 2, left: []string{"b"}},
		{name: "mixed", have: []string{"a", "b"}, want: map[string]int{"b": 2, "c": 3}, starts: 1, updates: 2, close: 1, left: []string{"b", "c"}},
		{name: "stop all", have: []string{"a", "b"}, stopAll: true, close: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := []*fake{}
			workers := map[string]*fake{}
			for _, k := range tc.have {
				w := &fake{key: k}
				workers[k] = w
				all = append(all, w)
			}
			starts := 0
			start := func(k string, v int) *fake {
				starts++
				w := &fake{key: k, ran: make(chan struct{})}
				all = append(all, w)
				return w
			}
			run := func(w *fake) { close(w.ran) }
			update := func(w *fake, v int) { w.updates++; w.val = v }
			closeW := func(w *fake) { w.closed++ }
			var mu sync.Mutex
			if tc.stopAll {
				StopAll(&mu, &workers, closeW)
			} else {
				mu.Lock()
				Reconcile(workers, tc.want, start, run, update, closeW)
				mu.Unlock()
			}
			updates, closes := 0, 0
			for _, w := range all {
				updates += w.updates
				closes += w.closed
				if w.ran != nil {
					select {
					case <-w.ran:
					case <-time.After(5 * time.Second):
						t.Fatalf("worker %q was started but never run", w.key)
					}
				}
			}
			if starts != tc.starts || updates != tc.updates || closes != tc.close {
				t.Errorf("starts, updates, closes = %d, %d, %d; want %d, %d, %d", starts, updates, closes, tc.starts, tc.updates, tc.close)
			}
			var left []string
			for k, w := range workers {
				left = append(left, k)
				if w.val != tc.want[k] {
					t.Errorf("worker %q has value %d; want %d", k, w.val, tc.want[k])
				}
				if w.closed != 0 {
					t.Errorf("worker %q is kept but closed", k)
				}
			}
			slices.Sort(left)
			if !slices.Equal(left, tc.left) {
				t.Errorf("workers left: %v; want %v", left, tc.left)
			}
		})
	}
}
