package store

import (
	"bytes"
	"fmt"
	"strings"
)

// checkBatch rejects a batch that no store may write, before anything is
// written: direct writes to buckets whose layout the store owns (the event
// log is append-only through Batch.Events, and '_' buckets are the store's
// bookkeeping), malformed names, and contradictory records.
func checkBatch(b Batch) error {
	if len(b.ID) > MaxBatchIDLen || strings.IndexFunc(b.ID, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '-')
	}) >= 0 {
		return fmt.Errorf("store: commit: batch ID %q: use up to %d bytes of letters, digits, '_' and '-'", b.ID, MaxBatchIDLen)
	}
	for _, kv := range b.Puts {
		if err := checkWritable(kv); err != nil {
			return err
		}
	}
	for _, kv := range b.Deletes {
		if err := checkWritable(KV{Bucket: kv.Bucket, Key: kv.Key}); err != nil {
			return err
		}
	}
	return nil
}

func checkWritable(kv KV) error {
	switch {
	case kv.Bucket == BucketEvents:
		return fmt.Errorf("store: commit: bucket %q is managed by the store and cannot be written directly (append events with Batch.Events)", kv.Bucket)
	case strings.HasPrefix(kv.Bucket, "_"):
		return fmt.Errorf("store: commit: bucket %q is reserved for the store's own records (names starting with '_')", kv.Bucket)
	case kv.Bucket == "" || len(kv.Bucket) > maxBucketName:
		return fmt.Errorf("store: commit: bucket name must be 1 to %d bytes, got %d", maxBucketName, len(kv.Bucket))
	case strings.Contains(kv.Bucket, "/"):
		// etcd keys are "<prefix><bucket>/<key>": a '/' in a bucket name
		// would make one bucket's listing include another's keys.
		return fmt.Errorf("store: commit: bucket name %q contains '/': use a name without it", kv.Bucket)
	case kv.Key == "":
		return fmt.Errorf("store: commit: %s: empty key: every record needs a key", kv.Bucket)
	case kv.TTL < 0:
		return fmt.Errorf("store: commit: %s/%q: TTL %s is negative: use 0 for a record that never expires", kv.Bucket, kv.Key, kv.TTL)
	case kv.TTL > 0 && kv.Ephemeral:
		return fmt.Errorf("store: commit: %s/%q: a record is either Ephemeral (lives as long as this process's session) or has a TTL, not both", kv.Bucket, kv.Key)
	}
	return nil
}

// netEffect reduces a batch's puts and deletes to what it leaves behind,
// each key once: the last put of a key wins, and a key the batch also
// deletes is deleted (deletes run after puts). Keys keep the order of
// their first appearance. Both stores write the net effect, so they report
// the same changes, and etcd (which refuses a key twice in one
// transaction) can take any batch bolt takes.
func netEffect(b Batch) (puts, deletes []KV) {
	type bk struct{ bucket, key string }
	deleted := make(map[bk]bool, len(b.Deletes))
	for _, kv := range b.Deletes {
		k := bk{kv.Bucket, kv.Key}
		if !deleted[k] {
			deleted[k] = true
			deletes = append(deletes, KV{Bucket: kv.Bucket, Key: kv.Key})
		}
	}
	at := make(map[bk]int, len(b.Puts))
	for _, kv := range b.Puts {
		k := bk{kv.Bucket, kv.Key}
		if deleted[k] {
			continue
		}
		if i, ok := at[k]; ok {
			puts[i] = kv
			continue
		}
		at[k] = len(puts)
		puts = append(puts, kv)
	}
	return puts, deletes
}

// holds checks c against the current logical value of its key (cur,
// present), returning an ErrConflict that names the key when it fails.
func (c Condition) holds(cur []byte, present bool) error {
	switch {
	case c.Absent && present:
		return fmt.Errorf("%s/%q exists, want absent: %w", c.Bucket, c.Key, ErrConflict)
	case !c.Absent && !present:
		return fmt.Errorf("%s/%q is absent: %w", c.Bucket, c.Key, ErrConflict)
	case !c.Absent && !bytes.Equal(cur, c.Value):
		return fmt.Errorf("%s/%q holds a different value: %w", c.Bucket, c.Key, ErrConflict)
	}
	return nil
}
