// Package keyed keeps a set of per-key background workers: it exists
// because two such sets share the same reconcile and stop-all logic —
// the publish manager's destinations and the webhook dispatcher's
// webhooks. The worker types stay unexported in their packages: they are
// handled through the functions passed in.
package keyed

import "sync"

// Reconcile starts a worker for each key of want that has none (start,
// then go run), hands every wanted worker its value (update), and closes
// and forgets the workers whose key is not wanted. The caller holds the
// lock guarding workers.
func Reconcile[K comparable, V, W any](workers map[K]W, want map[K]V, start func(K, V) W, run func(W), update func(W, V), close func(W)) {
	for k, v := range want {
		w, ok := workers[k]
		if !ok {
			w = start(k, v)
			workers[k] = w
			go run(w)
		}
		update(w, v)
	}
	for k, w := range workers {
		if _, ok := want[k]; !ok {
			close(w)
			delete(workers, k)
		}
	}
}

// StopAll swaps *workers for an empty map under mu and closes every
// worker outside the lock.
func StopAll[K comparable, W any](mu sync.Locker, workers *map[K]W, close func(W)) {
	mu.Lock()
	ws := *workers
	*workers = map[K]W{}
	mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}
