package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltFile is the name of the bolt store in failoverd's data dir.
const BoltFile = "failoverd.db"

// BoltPath is the store file of a data dir.
func BoltPath(dataDir string) string { return filepath.Join(dataDir, BoltFile) }

// CopyBolt writes a snapshot of the store file at path to the writer open
// returns, like Bolt.Backup, for a store no failoverd is running on. It
// refuses a damaged store: a backup must be something a restore can use.
func CopyBolt(path string, timeout time.Duration, open func(size int64) (io.Writer, error)) error {
	rep, err := CheckBolt(path, timeout)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("store: %w", damagedError(path, rep.Problems[0]))
	}
	db, err := openBoltFile(path, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return err
	}
	defer db.Close()
	err = recoverFaults(func() error {
		return db.View(func(tx *bolt.Tx) error {
			w, err := open(tx.Size())
			if err != nil {
				return err
			}
			_, err = tx.WriteTo(w)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("store: copy %s: %w", path, err)
	}
	return nil
}

// ErrInUse is returned by CheckUnused for a store file a failoverd holds.
var ErrInUse = errors.New("store in use")

// CheckUnused reports whether a process holds the store file at path
// (failoverd keeps bbolt's exclusive lock on it while it runs). A missing
// file is unused.
func CheckUnused(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	// A shared lock, as a reader takes: it fails only against the
	// exclusive lock of a running failoverd. Closing the file releases it.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s is locked by a running failoverd", ErrInUse, path)
		}
		return fmt.Errorf("store: lock %s: %w", path, err)
	}
	return nil
}

// WriteFileAtomic writes a file at path from fill: into a temporary file
// in the same directory, fsync'd, then renamed into place and the directory
// fsync'd, so path holds either its old content or all of the new — never
// a partial copy. The file is created 0600.
func WriteFileAtomic(path string, fill func(f *os.File) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename: a no-op
	err = fill(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}
