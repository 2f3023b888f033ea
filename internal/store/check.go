package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Report is what a check of a bolt store file found.
type Report struct {
	Path string
	Size int64
	// Format is the layout version: 0 for a store written before the
	// format marker existed (OpenBolt upgrades it), else formatVersion.
	Format    int
	CreatedAt time.Time
	// Keys counts the records of each bucket (nested buckets included,
	// as "outer/inner").
	Keys map[string]int
	// Events spans the event log; Audit counts the audit log.
	FirstSeq, LastSeq uint64
	Audit             int
	// PageCheck reports whether bbolt's full page check ran (freelist,
	// reachability of every page), beyond the walk of every record.
	PageCheck bool
	// Problems lists the damage found, at most maxProblems of them;
	// Omitted counts the rest. A store with problems must not be used.
	Problems []string
	Omitted  int

	err      error           // why the check could not run
	expiring map[string]bool // buckets whose records are wrapped
}

// OK reports whether the file is a usable store.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

const maxProblems = 20

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.Omitted++
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// CheckBolt checks the store file at path without changing it: bbolt's
// meta pages and full page check, the format marker, the store's own
// buckets, and every record of them, walked and decoded. It needs the
// file unused (it takes the same lock failoverd holds). The error is for a
// check that could not run (missing file, in use); damage is in
// Report.Problems.
func CheckBolt(path string, timeout time.Duration) (*Report, error) {
	if timeout <= 0 {
		timeout = DefaultOpenTimeout
	}
	return inspect(path, timeout, func(int64) bool { return true })
}

// inspect opens path read-only and reports on it; pageCheck decides by
// file size whether bbolt's full page check runs too.
func inspect(path string, timeout time.Duration, pageCheck func(size int64) bool) (*Report, error) {
	r := &Report{Path: path, Keys: map[string]int{}}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: %s does not exist: give the data dir of a failoverd (--data-dir) or a backup file", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	r.Size = fi.Size()
	if r.Size == 0 {
		// bbolt would initialise an empty file as a new database, and
		// every policy would answer NXDOMAIN.
		r.problem("the file is empty (0 bytes); a failoverd store never is, so it was truncated or replaced")
		return r, nil
	}
	if err := checkPagesOf(path, r.Size); err != nil {
		r.problem("%v", err)
		return r, nil
	}
	// The walk opens without the freelist, which bbolt would otherwise
	// read at open; the page check below reads it.
	if !r.read(path, &bolt.Options{ReadOnly: true, Timeout: timeout}, (*Report).walk) || r.err != nil {
		return nil, r.err
	}
	if r.OK() && pageCheck(r.Size) {
		// Safe only now: tx.Check reads pages in a goroutine of its own,
		// where a fault could not be recovered, and the walk has just read
		// every reachable page without one. The freelist is loaded at open
		// here, in this goroutine, where a fault is recovered.
		r.PageCheck = true
		if !r.read(path, &bolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: timeout}, (*Report).pageCheck) {
			return nil, r.err
		}
	}
	return r, nil
}

// checkPagesOf runs checkPages on the file at path.
func checkPagesOf(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return checkPages(f, size)
}

// read opens path read-only with o and runs fn in a read transaction,
// recording damage as problems. It returns false, with r.err set, when the
// file could not be read for another reason (in use); fn may set r.err too.
func (r *Report) read(path string, o *bolt.Options, fn func(*Report, *bolt.Tx)) bool {
	db, err := openBoltFile(path, o)
	var de *DamageError
	if errors.As(err, &de) {
		r.problem("%s", de.What)
		return true
	}
	if err != nil {
		r.err = err
		return false
	}
	defer db.Close()
	err = recoverFaults(func() error {
		return db.View(func(tx *bolt.Tx) error {
			fn(r, tx)
			return nil
		})
	})
	var pe *panicError
	if errors.As(err, &pe) {
		r.problem("reading the records: %v", pe)
	} else if err != nil {
		r.err = fmt.Errorf("store: check %s: %w", path, err)
		return false
	}
	return true
}

// walk fills r from tx. It runs with faults recovered; a panic ends it.
func (r *Report) walk(tx *bolt.Tx) {
	if need := tx.Size(); need > r.Size {
		// Pages past the end of the file would fault when read.
		r.problem("the file is cut short: it is %d bytes, its pages need %d", r.Size, need)
		return
	}
	if !r.checkLayout(tx) {
		return
	}
	// The registry of expiring buckets first: it says how to decode the
	// records of the others.
	r.expiring = map[string]bool{}
	if b := tx.Bucket([]byte(bucketExpiring)); b != nil {
		r.walkBucket(bucketExpiring, b.Cursor(), b.Bucket)
	}
	r.walkBucket("", tx.Cursor(), tx.Bucket)
	if ev := tx.Bucket([]byte(BucketEvents)); ev != nil {
		if k, _ := ev.Cursor().First(); len(k) == seqSize {
			r.FirstSeq = binary.BigEndian.Uint64(k)
		}
		r.LastSeq = ev.Sequence()
	}
}

func (r *Report) pageCheck(tx *bolt.Tx) {
	for err := range tx.Check() {
		r.problem("page check: %v", err)
	}
}

// checkLayout reads the format marker and checks the buckets the format
// requires. It returns false when the file is not a store at all.
func (r *Report) checkLayout(tx *bolt.Tx) bool {
	required := requiredBuckets
	meta := tx.Bucket([]byte(bucketMeta))
	raw, ok := lookup(meta, []byte(markerKey))
	switch {
	case ok:
		m, err := decodeMarker(raw)
		if err != nil {
			r.problem("%v", err)
			return false
		}
		r.Format, r.CreatedAt = m.Format, m.CreatedAt
		if m.Format > formatVersion {
			// Not damage: refused all the same, since this version would
			// misread it.
			r.err = fmt.Errorf("store: %s was written by a newer failoverd (store format %d; this version reads up to %d): run that version, or restore a backup this version wrote", r.Path, m.Format, formatVersion)
			return false
		}
	case meta == nil && tx.Bucket([]byte(BucketEvents)) != nil && tx.Bucket([]byte(BucketState)) != nil:
		// Written before the marker existed: upgraded at open.
		r.Format = 0
		required = []string{BucketEvents, BucketState, BucketIdempotency}
	default:
		r.problem("it has no failoverd format marker: it is not a failoverd store, or its first pages were lost")
		return false
	}
	for _, name := range required {
		if tx.Bucket([]byte(name)) == nil {
			r.problem("bucket %q is missing", name)
		}
	}
	return r.OK()
}

// walkBucket reads every record under cursor c — the bucket name, or the
// root for "" — checking that keys move forward, recursing into nested
// buckets (sub) and decoding the store's own records.
func (r *Report) walkBucket(name string, c *bolt.Cursor, sub func(k []byte) *bolt.Bucket) {
	var prev []byte
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if int64(len(k))+int64(len(v)) > r.Size {
			// A damaged page header claims more bytes than the file has.
			r.problem("bucket %q: a record after key %x claims %d bytes, more than the file holds", name, truncate(prev, 32), len(k)+len(v))
			return
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			// Damaged pages can make the cursor go round in circles: stop
			// at the first key that does not move forward.
			r.problem("bucket %q: key %x is out of order after %x", name, truncate(k, 32), truncate(prev, 32))
			return
		}
		prev = append(prev[:0], k...)
		if v == nil {
			if nb := sub(k); nb != nil {
				child := string(truncate(k, 64))
				if name != "" {
					child = name + "/" + child
				}
				if child != bucketExpiring { // walked first
					r.walkBucket(child, nb.Cursor(), nb.Bucket)
				}
				continue
			}
		}
		if name == "" {
			continue // the root holds buckets only
		}
		n++
		if err := r.checkRecord(name, k, v); err != nil {
			r.problem("bucket %q, key %q: %v", name, truncate(k, 64), err)
		}
	}
	if name != "" {
		r.Keys[name] = n
	}
}

// checkRecord decodes one record whose layout the store owns.
func (r *Report) checkRecord(bucket string, k, v []byte) error {
	switch {
	case bucket == bucketExpiring:
		r.expiring[string(k)] = true
	case bucket == BucketEvents:
		if len(k) != seqSize {
			return fmt.Errorf("event key is %d bytes, not %d", len(k), seqSize)
		}
	case bucket == bucketAudit:
		r.Audit++
		if len(k) != seqSize {
			return fmt.Errorf("audit key is %d bytes, not %d", len(k), seqSize)
		}
		_, _, _, err := decodeAudit(v)
		return err
	case bucket == bucketExpiry:
		if _, _, _, ok := splitExpiryKey(k); !ok {
			return errors.New("malformed expiry index key")
		}
	case bucket == bucketMeta && string(k) == markerKey:
		_, err := decodeMarker(v)
		return err
	case bucket == bucketMeta && string(k) == revKey:
		_, err := decodeRev(v)
		return err
	case r.Format == 0 && bucket == BucketIdempotency:
		_, _, err := decodeLegacyIdempotency(v)
		return err
	case r.expiring[bucket]:
		_, _, err := decodeExpiring(v)
		return err
	}
	return nil
}

// SortedBuckets lists the bucket names of Keys in order, for printing.
func (r *Report) SortedBuckets() []string {
	names := make([]string, 0, len(r.Keys))
	for n := range r.Keys {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
