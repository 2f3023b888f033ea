package server

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// TestAuditEventsRoute: GET /v1/events?type=audit reads the audit log —
// mutations and refused mutations, nothing else — with the same seq and
// paging as the event log; any other type is refused naming the field.
func TestAuditEventsRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", operateToken, obj{"engaged": true}).want(t, http.StatusOK)
	h.do(t, http.MethodPatch, "/v1/burst-toggles/dr", readToken, obj{"engaged": false}).problem(t, http.StatusForbidden)
	h.eng.Emit(api.Event{Type: api.EventHealth, Message: "not audit"})
	h.eng.Flush()

	var page api.List[api.Event]
	h.do(t, http.MethodGet, "/v1/events?type=audit&limit=1000", readToken, nil).want(t, http.StatusOK).decode(t, &page)
	var got []string
	for _, ev := range page.Items {
		if ev.Type != api.EventAudit {
			t.Fatalf("the audit log holds a %s event: %+v", ev.Type, ev)
		}
		got = append(got, ev.Actor+" "+ev.Action+" "+ev.Outcome)
	}
	want := []string{adminName + " create 201 Created", operateName + " engage 200 OK", readName + " patch 403 Forbidden"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit log = %q, want %q", got, want)
	}
	// The same events, same seqs, are in the event log.
	all := h.events(t)
	for _, a := range page.Items {
		i := slices.IndexFunc(all, func(e api.Event) bool { return e.Seq == a.Seq })
		if i < 0 || all[i].Type != api.EventAudit || all[i].Action != a.Action {
			t.Fatalf("audit event seq %d is not the same event in /v1/events", a.Seq)
		}
	}
	var rest api.List[api.Event]
	h.do(t, http.MethodGet, "/v1/events?type=audit&since="+strconv.FormatUint(page.Items[0].Seq, 10), readToken, nil).want(t, http.StatusOK).decode(t, &rest)
	if len(rest.Items) != 2 || rest.Items[0].Seq != page.Items[1].Seq {
		t.Fatalf("audit page after seq %d = %+v", page.Items[0].Seq, rest.Items)
	}

	p := h.do(t, http.MethodGet, "/v1/events?type=health", readToken, nil).problem(t, http.StatusBadRequest)
	wantDetail(t, p, "type", `"health"`, "type=audit")
	h.do(t, http.MethodGet, "/v1/events?type=audit", noToken, nil).problem(t, http.StatusUnauthorized)
}

// TestBackupRoute: GET /v1/backup (admin only) streams the whole store as
// one consistent snapshot that opens as a store; taking it is audited.
func TestBackupRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindHealthCheck, checkFixture("web", "127.0.0.1:443"))
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))

	for _, tok := range []string{readToken, operateToken} {
		h.do(t, http.MethodGet, "/v1/backup", tok, nil).problem(t, http.StatusForbidden)
	}
	r := h.do(t, http.MethodGet, "/v1/backup", adminToken, nil).want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(r.Body)) {
		t.Fatalf("Content-Length %s for %d bytes", cl, len(r.Body))
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := store.CheckBolt(path, 0)
	if err != nil || !rep.OK() {
		t.Fatalf("the backup does not check clean: %+v, %v", rep, err)
	}
	if rep.Keys[string(api.KindHealthCheck)] != 1 || rep.Keys[string(api.KindBurstToggle)] != 1 {
		t.Fatalf("the backup holds %v", rep.Keys)
	}
	eventually(t, 5*time.Second, func() (bool, string) {
		evs := h.auditEvents(t, "store", "backup")
		return len(evs) == 1 && evs[0].Actor == adminName, "no audit event for the backup"
	})
}

// TestDamagedStoreAnswers503: a store damaged under a running failoverd
// makes writes and log reads answer 503 "Store Damaged" with the recovery
// path — the process does not crash, and DNS-facing state stays served
// from memory.
func TestDamagedStoreAnswers503(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, api.KindBurstToggle, toggleFixture("dr"))
	if err := os.Truncate(filepath.Join(h.dir, "failoverd.db"), 8192); err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/v1/events"},
		{http.MethodPost, "/v1/burst-toggles"},
		{http.MethodGet, "/v1/backup"},
	} {
		var body any
		if req.method == http.MethodPost {
			body = toggleFixture("dr2")
		}
		p := h.do(t, req.method, req.path, adminToken, body).problem(t, http.StatusServiceUnavailable)
		if p.Title != "Store Damaged" || !strings.Contains(p.Detail, "failoverd store restore") || !strings.Contains(p.Detail, h.dir) {
			t.Errorf("%s %s: problem %+v, want Store Damaged naming the file and the restore", req.method, req.path, p)
		}
	}
	// Declared objects are served from memory still.
	h.get(t, api.KindBurstToggle, "dr").want(t, http.StatusOK)
	if r := h.do(t, http.MethodGet, "/burst/dr", noToken, nil); r.Status != http.StatusServiceUnavailable || string(r.Body) != api.DefaultBodyReleased {
		t.Fatalf("/burst/dr = %d %q", r.Status, r.Body)
	}
}
