package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/store"
	"github.com/hatopo/terraform-provider-failover/internal/store/storetest"
)

// boltBacklog is small so that the compaction case can push revisions out
// of the watch backlog with a few empty commits.
const boltBacklog = 8

// TestBoltContract runs the Store contract suite against the bolt store.
func TestBoltContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.OpenBolt(filepath.Join(t.TempDir(), "failoverd.db"), store.BoltOptions{WatchBacklog: boltBacklog})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}, storetest.Compact(func(t *testing.T, s store.Store) {
		for i := 0; i < boltBacklog; i++ {
			if _, err := s.Commit(context.Background(), store.Batch{}); err != nil {
				t.Fatal(err)
			}
		}
	}))
}
