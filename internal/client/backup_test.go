package client

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestBackup: a snapshot is complete only when every announced byte
// arrived; a transfer cut short, or an answer that is not a snapshot, is
// an error and never passes for a backup. (The real route and a real
// store are exercised end to end by cmd/failoverd's store tests.)
func TestBackup(t *testing.T) {
	snapshot := bytes.Repeat([]byte("page"), 4096)
	tests := []struct {
		name    string
		serve   func(w http.ResponseWriter)
		wantErr string
	}{
		{name: "complete", serve: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.Itoa(len(snapshot)))
			w.Write(snapshot)
		}},
		{name: "no length", serve: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(snapshot) // chunked: the end cannot be told from a cut
		}, wantErr: "without Content-Length"},
		{name: "cut short", serve: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", "1000000")
			w.Write(snapshot)
			panic(http.ErrAbortHandler)
		}, wantErr: "cut short after 16384 of 1000000 bytes"},
		{name: "not a snapshot", serve: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>proxy login</html>"))
		}, wantErr: `Content-Type "text/html"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var accept, auth string
			f.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != "/v1/backup" {
					return false
				}
				accept, auth = r.Header.Get("Accept"), r.Header.Get("Authorization")
				tc.serve(w)
				return true
			}
			var buf bytes.Buffer
			n, err := f.client(t).Backup(context.Background(), &buf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Backup = (%d, %v), want an error with %q", n, err, tc.wantErr)
				}
				return
			}
			if err != nil || n != int64(len(snapshot)) || !bytes.Equal(buf.Bytes(), snapshot) {
				t.Fatalf("Backup = (%d, %v), want the %d-byte snapshot", n, err, len(snapshot))
			}
			if accept != "application/octet-stream" || auth != "Bearer "+fixtureToken {
				t.Fatalf("request headers Accept %q, Authorization %q", accept, auth)
			}
		})
	}
}

func TestAuditEventsList(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	if _, err := c.AuditEvents(context.Background(), 7, 3); err != nil {
		t.Fatal(err)
	}
	if _, _, requests := f.stats(); requests[0] != "GET /v1/events?limit=3&since=7&type=audit" {
		t.Errorf("request = %s", requests[0])
	}
}
