//go:build unix

package server

import (
	"fmt"
	"os"
	"syscall"
)

// checkTokenFileOwner refuses a token file that someone other than
// failoverd's user or root could change: a group- or world-writable file,
// or one owned by another user. Reading it is harmless (it holds hashes).
func checkTokenFileOwner(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("token file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("token file %s is writable by its group or by others (mode %04o), so they could add a token: run chmod 600 %s", path, perm, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("token file %s belongs to uid %d, neither root nor failoverd's user (uid %d), who could change it: chown it to failoverd's user and run chmod 600 %s", path, st.Uid, os.Geteuid(), path)
	}
	return nil
}
