package server

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// handleBackup streams a consistent snapshot of the store (GET /v1/backup,
// admin scope): one point in time, taken in a read transaction while
// failoverd goes on serving and writing. "failoverd store backup FILE"
// calls it. It copies everything, idempotency records (full API answers)
// included, so it is admin-only and audited.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	b, ok := s.store.(store.Backuper)
	if !ok {
		writeProblem(w, &problem{Status: http.StatusNotImplemented, Title: "Backup Not Available",
			Detail: "this store is not backed up through failoverd: back up its own cluster (etcd: etcdctl snapshot save)"})
		return
	}
	// A large store takes longer to send than any deadline meant for API
	// answers; the client's own idle timeout ends a stalled transfer.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	who := identityFrom(r.Context()).Name
	var size int64
	started := time.Now()
	err := b.Backup(r.Context(), func(n int64) (io.Writer, error) {
		size = n
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(n, 10))
		h.Set("Content-Disposition", `attachment; filename="failoverd.db"`)
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		return w, nil
	})
	switch {
	case err != nil && size == 0:
		// Nothing sent yet: an answer the client can read.
		writeProblem(w, storeError(err))
		return
	case err != nil:
		// Headers are out: the client sees a body shorter than its
		// Content-Length and discards it.
		s.log.Warn("backup cut short", "actor", who, "bytes", size, "err", err)
		return
	}
	s.log.Info("backup sent", "actor", who, "bytes", size, "took", time.Since(started).Round(time.Millisecond))
	s.engine.Emit(api.Event{Time: time.Now(), Type: api.EventAudit, Object: "store", Actor: who, Action: "backup",
		Outcome: "200 OK", Message: fmt.Sprintf("backup of the store by %s: %d bytes", who, size)})
}
