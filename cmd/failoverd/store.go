package main

// failoverd store check|backup|restore: the operator's tools for the
// embedded store file. check and restore work offline, on a data dir no
// failoverd is running on; backup takes a consistent snapshot from a
// running failoverd through its API (or, with --data-dir, from a stopped
// one). Every file they write is written whole or not at all.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

const storeUsage = `usage:
  failoverd store check (--data-dir DIR | FILE)
  failoverd store backup FILE [--data-dir DIR]
  failoverd store restore FILE --data-dir DIR

check    verifies a store file offline: bbolt's pages, every record, the format.
         Exit 0 when it is sound, 1 when it is damaged or cannot be read.
backup   writes a consistent snapshot of a running failoverd's store to FILE
         (FAILOVER_ENDPOINT, FAILOVER_TOKEN with admin scope), while it serves;
         with --data-dir, of a stopped failoverd's store. FILE is verified.
restore  puts a backup in place as DIR's store, with failoverd stopped; the
         store it replaces is kept beside it.
`

// storeLockWait is how long offline commands wait for the store's lock.
const storeLockWait = time.Second

func runStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 {
		action = args[0]
	}
	switch action {
	case "check":
		return storeCheck(args[1:], stdout, stderr)
	case "backup":
		return storeBackup(ctx, args[1:], stdout, stderr)
	case "restore":
		return storeRestore(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, storeUsage)
		return 0
	case "":
		fmt.Fprintf(stderr, "failoverd store: say check, backup or restore\n\n%s", storeUsage)
		return 2
	}
	fmt.Fprintf(stderr, "failoverd store: unknown action %q: use check, backup or restore\n\n%s", action, storeUsage)
	return 2
}

// storeCheck: failoverd store check (--data-dir DIR | FILE)
func storeCheck(args []string, stdout, stderr io.Writer) int {
	o := newOfflineCmd("store check", "(--data-dir DIR | FILE)", stdout, stderr)
	dataDir := o.fs.String("data-dir", "", "data dir of a stopped failoverd (checks DIR/"+store.BoltFile+")")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	path, code := o.storeFile(*dataDir, pos)
	if path == "" {
		return code
	}
	rep, err := store.CheckBolt(path, storeLockWait)
	if err != nil {
		return o.fail(err)
	}
	recovery := "this file cannot be restored: use another backup"
	if *dataDir != "" {
		recovery = "restore a backup with failoverd stopped: failoverd store restore BACKUP --data-dir " + *dataDir
	}
	writeReport(stdout, rep, recovery)
	if !rep.OK() {
		return 1
	}
	return 0
}

// storeFile resolves the one store file a command names: DIR/failoverd.db
// or FILE, not both.
func (o *opCmd) storeFile(dataDir string, pos []string) (string, int) {
	switch {
	case dataDir != "" && len(pos) == 0:
		return store.BoltPath(dataDir), opContinue
	case dataDir == "" && len(pos) == 1:
		return pos[0], opContinue
	}
	return "", o.usageError("name the store: --data-dir DIR of a stopped failoverd, or a backup FILE")
}

// writeReport prints a check report: the verdict first, then what the
// file holds, then every problem and the recovery.
func writeReport(w io.Writer, r *store.Report, recovery string) {
	verdict := "OK"
	if !r.OK() {
		verdict = "DAMAGED"
	}
	fmt.Fprintf(w, "%s: %s\n", r.Path, verdict)
	fmt.Fprintf(w, "  size:     %d bytes\n", r.Size)
	if r.Format > 0 || r.OK() {
		format := fmt.Sprintf("%d", r.Format)
		if r.Format == 0 {
			format = "0 (before format markers; failoverd upgrades it when it opens the store)"
		} else if !r.CreatedAt.IsZero() {
			format += ", created " + r.CreatedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  format:   %s\n", format)
		checked := "page graph, every record"
		if r.PageCheck {
			checked += ", bbolt page check"
		}
		fmt.Fprintf(w, "  checked:  %s\n", checked)
	}
	if r.OK() {
		var objs []string
		for _, b := range r.SortedBuckets() {
			if !strings.HasPrefix(b, "_") && b != store.BucketEvents {
				objs = append(objs, fmt.Sprintf("%s %d", b, r.Keys[b]))
			}
		}
		fmt.Fprintf(w, "  records:  %s\n", strings.Join(objs, ", "))
		events := "none"
		if r.LastSeq > 0 {
			events = fmt.Sprintf("%d kept, seq %d to %d", r.Keys[store.BucketEvents], r.FirstSeq, r.LastSeq)
		}
		fmt.Fprintf(w, "  events:   %s\n", events)
		fmt.Fprintf(w, "  audit:    %d events\n", r.Audit)
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem:  %s\n", oneLine(p))
	}
	if r.Omitted > 0 {
		fmt.Fprintf(w, "  and %d more problems\n", r.Omitted)
	}
	fmt.Fprintf(w, "  recovery: %s\n", recovery)
}

// storeBackup: failoverd store backup FILE [--data-dir DIR]
func storeBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("store backup", "FILE [--data-dir DIR]", stdout, stderr)
	dataDir := o.fs.String("data-dir", "", "back up the store of a stopped failoverd from its data dir, instead of a running one through its API")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) != 1 {
		return o.usageError("name the FILE to write the backup to")
	}
	file := pos[0]
	from := ""
	var (
		size int64
		rep  *store.Report
	)
	err := store.WriteFileAtomic(file, func(f *os.File) error {
		if *dataDir != "" {
			from = store.BoltPath(*dataDir)
			if err := store.CopyBolt(from, storeLockWait, func(n int64) (io.Writer, error) { size = n; return f, nil }); err != nil {
				return err
			}
		} else {
			c, code := o.client()
			if c == nil {
				return exitCode(code)
			}
			from = c.Endpoint()
			var err error
			if size, err = c.Backup(ctx, f); err != nil {
				return err
			}
		}
		// Verified as a restore would, before it replaces anything at
		// FILE: a backup that does not open is no backup.
		if err := f.Sync(); err != nil {
			return err
		}
		var err error
		if rep, err = store.CheckBolt(f.Name(), storeLockWait); err != nil {
			return err
		}
		if !rep.OK() {
			writeReport(stderr, rep, "keep the previous backup")
			return fmt.Errorf("the snapshot does not check clean: nothing was written to %s", file)
		}
		return nil
	})
	var ec exitCode
	switch {
	case errors.As(err, &ec):
		return int(ec)
	case err != nil:
		return o.fail(err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %d bytes, checked OK (%d events up to seq %d, %d audit events)\n",
		from, file, size, rep.Keys[store.BucketEvents], rep.LastSeq, rep.Audit)
	return 0
}

// exitCode carries an exit code already reported out of a callback.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// storeRestore: failoverd store restore FILE --data-dir DIR
func storeRestore(args []string, stdout, stderr io.Writer) int {
	o := newOfflineCmd("store restore", "FILE --data-dir DIR", stdout, stderr)
	dataDir := o.fs.String("data-dir", "", "data dir of the failoverd to restore into (it must be stopped)")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) != 1 || *dataDir == "" {
		return o.usageError("name the backup FILE and the --data-dir DIR to restore it into")
	}
	backup, dst := pos[0], store.BoltPath(*dataDir)
	rep, err := store.CheckBolt(backup, storeLockWait)
	if err != nil {
		return o.fail(err)
	}
	if !rep.OK() {
		writeReport(stderr, rep, "restore another backup")
		return o.failf("%s is not a sound store: nothing was restored", backup)
	}
	if err := store.CheckUnused(dst); err != nil {
		return o.failf("%v: stop failoverd before restoring (nothing was restored)", err)
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return o.fail(err)
	}
	// The store being replaced is kept, never deleted: it may hold writes
	// made after the backup.
	kept := ""
	if _, err := os.Lstat(dst); err == nil {
		kept = fmt.Sprintf("%s.before-restore-%s", dst, opNow().UTC().Format("20060102T150405Z"))
		if err := os.Rename(dst, kept); err != nil {
			return o.fail(err)
		}
	}
	err = store.WriteFileAtomic(dst, func(f *os.File) error {
		src, err := os.Open(backup)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(f, src)
		return err
	})
	if err != nil {
		if kept != "" {
			if rerr := os.Rename(kept, dst); rerr != nil {
				return o.failf("restore failed (%v) and the previous store could not be put back (%v): it is at %s", err, rerr, kept)
			}
		}
		return o.failf("restore failed, the data dir is unchanged: %v", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s (%d events up to seq %d, %d audit events)\n", backup, dst, rep.Keys[store.BucketEvents], rep.LastSeq, rep.Audit)
	if kept != "" {
		fmt.Fprintf(stdout, "the store it replaced is kept as %s\n", filepath.Base(kept))
	}
	fmt.Fprintln(stdout, "start failoverd on this data dir to serve it")
	return 0
}
