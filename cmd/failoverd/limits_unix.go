//go:build unix

package main

import "syscall"

// fileLimit is the process's RLIMIT_NOFILE (the Go runtime has already
// raised the soft limit to the hard one).
func fileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return uint64(rl.Cur), nil // int64 on some BSDs
}
