package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// legacyIdempotencyTTL is the fixed TTL format-0 stores applied to
// idempotency records; upgrading keeps each record's remaining life.
const legacyIdempotencyTTL = 24 * time.Hour

// OpenBolt opens the bolt store at path.
//
// A path that does not exist is a new data dir: the store is created
// (built under a temporary name and linked into place, so a crash half-way
// leaves no file that could later pass for an empty store). A path that
// exists must be a store this version can read: an empty, truncated,
// garbled or foreign file is refused with an error naming the file and the
// way to recover, instead of starting as an empty database. Every open
// walks every record; files up to CheckAtOpenBytes also get bbolt's full
// page check.
//
// The parent directory is created 0700 and the file 0600 because
// idempotency records hold full API responses.
func OpenBolt(path string, opts BoltOptions) (*Bolt, error) {
	opts = opts.withDefaults()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir %s: %w", dir, err)
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := createBolt(path, time.Now()); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("store: %w", err)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("store: %s is not a regular file (%s): --data-dir must hold failoverd's own store file", path, fi.Mode().Type())
	}
	rep, err := inspect(path, opts.Timeout, func(size int64) bool { return opts.CheckAtOpenBytes >= 0 && size <= opts.CheckAtOpenBytes })
	if err != nil {
		return nil, err
	}
	if len(rep.Problems) > 0 {
		what := rep.Problems[0]
		if n := len(rep.Problems) - 1; n > 0 {
			what += fmt.Sprintf("; and %d more problems", n)
		}
		return nil, fmt.Errorf("store: %w", damagedError(path, what))
	}

	s := &Bolt{path: path, opts: opts, now: time.Now, pruneBudget: defaultPruneBudget}
	// NoSync stays false: "acknowledged means on disk" (DESIGN §4.4) is
	// the whole point of this store. bbolt then fdatasyncs the data pages
	// and the meta page on every commit.
	s.db, err = openBoltFile(path, &bolt.Options{Timeout: opts.Timeout, NoSync: false})
	if err != nil {
		return nil, err
	}
	var rev uint64
	err = s.guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			if rep.Format == 0 {
				if err := migrateLegacy(tx, s.now()); err != nil {
					return fmt.Errorf("upgrade from format 0: %w", err)
				}
			}
			// Kinds added by a newer version get their bucket here, so
			// Lists of every kind work from the start.
			for _, k := range api.Kinds {
				if _, err := tx.CreateBucketIfNotExists([]byte(k)); err != nil {
					return fmt.Errorf("create bucket %q: %w", k, err)
				}
			}
			rev, err = readRev(tx)
			return err
		})
	})
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.feed = newFeed(rev, opts.WatchBacklog)
	return s, nil
}

// openBoltFile opens path with bbolt, turning its refusals and panics
// into errors that say what to do.
func openBoltFile(path string, o *bolt.Options) (*bolt.DB, error) {
	// bbolt panics, or faults on its memory map, when the pages it reads
	// at open (the freelist) are damaged; it then leaves the file open
	// and locked. Keep the handle to close it in that case.
	var f *os.File
	o.OpenFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		var err error
		f, err = os.OpenFile(name, flag, perm)
		return f, err
	}
	var db *bolt.DB
	err := recoverFaults(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, o)
		return err
	})
	var pe *panicError
	switch {
	case err == nil:
		return db, nil
	case errors.As(err, &pe):
		if f != nil {
			_ = f.Close()
		}
		return nil, fmt.Errorf("store: %w", damagedError(path, pe.Error()))
	case errors.Is(err, berrors.ErrTimeout):
		dir := dirOf(path)
		return nil, fmt.Errorf("store: data dir %s is in use by another failoverd (no lock on %s within %s): stop it first, or back it up through its API (failoverd store backup FILE): %w: %w", dir, path, o.Timeout, ErrInUse, err)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return nil, fmt.Errorf("store: %w", damagedError(path, "not a readable bolt database: "+err.Error()))
	}
	return nil, fmt.Errorf("store: open %s: %w", path, err)
}

// panicError is a panic (or memory-map fault) inside bbolt, caught.
type panicError struct{ v any }

func (e *panicError) Error() string { return fmt.Sprintf("bbolt: %v", e.v) }

// recoverFaults runs fn with faults on memory-mapped pages turned into
// panics (runtime/debug.SetPanicOnFault applies to this goroutine only),
// and returns any panic as a *panicError.
func recoverFaults(fn func() error) (err error) {
	prev := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(prev)
		if r := recover(); r != nil {
			err = &panicError{r}
		}
	}()
	return fn()
}

// createBolt creates a new, empty store of formatVersion at path. It is
// built under a temporary name and hard-linked into place, which fails if
// path appeared meanwhile (another failoverd won the race: its store is
// used), so path never holds a half-made file.
func createBolt(path string, now time.Time) error {
	tmp := path + ".new-" + strconv.Itoa(os.Getpid())
	_ = os.Remove(tmp) // left by a crashed process with our pid
	defer os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: DefaultOpenTimeout})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range requiredBuckets {
			if _, err := tx.CreateBucket([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %q: %w", name, err)
			}
		}
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(markerKey), encodeMarker(marker{Format: formatVersion, CreatedAt: now.UTC()}))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a new or renamed directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("store: sync %s: %w", dir, err)
	}
	return nil
}

// migrateLegacy upgrades a format-0 store in place, in the caller's
// transaction: the store's own buckets and marker are added, and
// idempotency records move from the fixed-TTL wrapper to expiring records
// that keep their remaining life. Events written before the upgrade stay
// in the event log only; the audit log starts empty.
func migrateLegacy(tx *bolt.Tx, now time.Time) error {
	for _, name := range requiredBuckets {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	idem := tx.Bucket([]byte(BucketIdempotency))
	var rewrite []KV
	c := idem.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		created, payload, err := decodeLegacyIdempotency(v)
		if err != nil {
			return fmt.Errorf("%s/%q: %w", BucketIdempotency, k, err)
		}
		expires := max(created+uint64(legacyIdempotencyTTL), 1)
		rewrite = append(rewrite, KV{Key: string(k), Value: encodeExpiring(expires, payload)})
	}
	idx := tx.Bucket([]byte(bucketExpiry))
	for _, kv := range rewrite {
		if err := idem.Put([]byte(kv.Key), kv.Value); err != nil {
			return err
		}
		expires, _, _ := decodeExpiring(kv.Value)
		if err := idx.Put(expiryKey(expires, BucketIdempotency, kv.Key), []byte{}); err != nil {
			return err
		}
	}
	if err := tx.Bucket([]byte(bucketExpiring)).Put([]byte(BucketIdempotency), []byte{}); err != nil {
		return err
	}
	if tx.Bucket([]byte(legacyBucketIdempotencyIndex)) != nil {
		if err := tx.DeleteBucket([]byte(legacyBucketIdempotencyIndex)); err != nil {
			return err
		}
	}
	at := now.UTC()
	return tx.Bucket([]byte(bucketMeta)).Put([]byte(markerKey), encodeMarker(marker{Format: formatVersion, CreatedAt: at, UpgradedAt: &at}))
}

func dirOf(path string) string { return filepath.Dir(path) }
