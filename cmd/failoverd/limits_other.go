//go:build !unix

package main

// fileLimit: there is no RLIMIT_NOFILE to read; the defaults apply.
func fileLimit() (uint64, error) { return 0, nil }
