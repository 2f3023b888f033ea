package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// TestStoreCommands runs the offline store subcommands in-process on real
// store files: their exit codes, what they print, and that a refused
// restore leaves the data dir as it was.
func TestStoreCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s, err := store.OpenBolt(store.BoltPath(data), store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(context.Background(), store.Batch{Puts: []store.KV{{Bucket: "burst-toggles", Key: "dr", Value: []byte(`{"name":"dr"}`)}},
		Audit: []func(uint64) []byte{func(uint64) []byte { return []byte(`{"type":"audit"}`) }}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte("not a store"), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(store.BoltPath(data))

	for _, tc := range []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"check a sound store", []string{"store", "check", "--data-dir", data}, 0,
			[]string{store.BoltPath(data) + ": OK", "format:   1, created ", "bbolt page check", "burst-toggles 1", "events:   1 kept, seq 1 to 1", "audit:    1 events"}, nil},
		{"check garbage", []string{"store", "check", garbage}, 1,
			[]string{garbage + ": DAMAGED", "problem:  not a readable bolt database", "use another backup"}, nil},
		{"check a missing file", []string{"store", "check", filepath.Join(dir, "none.db")}, 1, nil, []string{"does not exist"}},
		{"check both", []string{"store", "check", garbage, "--data-dir", data}, 2, nil, []string{"name the store"}},
		{"restore garbage", []string{"store", "restore", garbage, "--data-dir", data}, 1, nil, []string{"DAMAGED", "is not a sound store: nothing was restored"}},
		{"restore without a data dir", []string{"store", "restore", garbage}, 2, nil, []string{"--data-dir DIR"}},
		{"backup without a file", []string{"store", "backup"}, 2, nil, []string{"name the FILE"}},
		{"backup of garbage", []string{"store", "backup", filepath.Join(dir, "b.db"), "--data-dir", dir}, 1, nil, []string{"does not exist"}},
		{"unknown action", []string{"store", "repair"}, 2, nil, []string{`unknown action "repair"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tc.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
	if after, _ := os.ReadFile(store.BoltPath(data)); !bytes.Equal(before, after) {
		t.Fatal("a refused restore changed the data dir's store")
	}
	if _, err := os.Stat(filepath.Join(dir, "b.db")); err == nil {
		t.Fatal("a failed backup left a file behind")
	}
}
