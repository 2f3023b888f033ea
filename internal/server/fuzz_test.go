package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// fuzzWorld is one API shared by every input of a fuzz target, holding an
// object of each kind named "fz" for PUT, PATCH and override inputs.
func fuzzWorld(f *testing.F) *harness {
	h := newHarness(f)
	h.create(f, api.KindHealthCheck, checkFixture("fz", "127.0.0.1:80"))
	h.create(f, api.KindHealthCheck, checkFixture("fz-2", "127.0.0.1:80"))
	h.create(f, api.KindTrafficPolicy, policyFixture("fz", "fz", "fz-2"))
	h.create(f, api.KindReplicaSet, replicaSetFixture("fz"))
	h.create(f, api.KindBurstToggle, toggleFixture("fz"))
	h.create(f, api.KindWebhook, webhookFixture("fz"))
	return h
}

// comparable strips what may legitimately differ between two reads of the
// same object: a toggle's effective state is evaluated at read time.
func comparable(tb testing.TB, k api.Kind, b []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatalf("%s body %q: %v", k, b, err)
	}
	if k == api.KindBurstToggle {
		delete(m, "effective")
	}
	return m
}

// wantProblem checks a 4xx answer: problem+json; a 400 lists at least one
// error, each with a detail and a field path the provider can parse back
// into an attribute path (decoding problems included).
func wantProblem(t *testing.T, r response) {
	t.Helper()
	p := r.problem(t, r.Status)
	if r.Status != http.StatusBadRequest {
		return
	}
	if len(p.Errors) == 0 {
		t.Fatalf("400 without errors: %s", r.Body)
	}
	for _, e := range p.Errors {
		if e.Detail == "" || e.Severity != api.SeverityError {
			t.Errorf("error %+v: want a detail and severity error", e)
		}
		if _, err := api.ParsePath(e.Field); err != nil {
			t.Errorf("field path %q does not parse: %v", e.Field, err)
		}
	}
}

// FuzzDecodeObject feeds arbitrary bodies to the decoder and, over real
// HTTP, to create (POST) and update (PUT) of every kind. Nothing panics,
// nothing answers 5xx, refusals are problem documents, and an accepted
// object reads back exactly as answered and survives its own round trip:
// PUTting back what GET returned changes nothing.
func FuzzDecodeObject(f *testing.F) {
	for i, k := range api.Kinds {
		valid := mustJSON(f, baseFixture(k, "fz-new"))
		f.Add(uint8(i), valid, false)
		f.Add(uint8(i), mustJSON(f, baseFixture(k, "fz")), true)
		f.Add(uint8(i), append(bytes.Clone(valid), `{}`...), false)
		f.Add(uint8(i), valid[:len(valid)/2], false)
		f.Add(uint8(i), bytes.Replace(valid, []byte(`"name"`), []byte(`"nmae"`), 1), false)
		f.Add(uint8(i), []byte(`{"name":"Fz_New"}`), false)
		f.Add(uint8(i), []byte(`null`), false)
		f.Add(uint8(i), []byte(``), true)
		// Strict decoding: another case, a repeated key, explicit zeros.
		f.Add(uint8(i), bytes.Replace(valid, []byte(`"name"`), []byte(`"Name"`), 1), false)
		f.Add(uint8(i), bytes.Replace(valid, []byte(`{`), []byte(`{"name":"fz-new",`), 1), false)
		f.Add(uint8(i), bytes.Replace(valid, []byte(`{`), []byte(`{"rise":0,"failback":"","engine":"","body_engaged":"",`), 1), false)
	}
	near := []struct {
		kind api.Kind
		body obj
	}{
		{api.KindHealthCheck, edit(f, checkFixture("fz-new", "127.0.0.1:80"), func(o obj) {
			o["type"], o["interval_seconds"], o["timeout_seconds"] = "https", 1.5, 1.5
			o["tls"] = obj{"server_name": "www.example.org", "insecure_skip_verify": true}
			o["body_match"] = obj{"mode": "regex", "value": "^ok$"}
			o["headers"] = obj{"X-Probe": "failoverd", "x-probe": "dup"}
		})},
		{api.KindHealthCheck, edit(f, checkFixture("fz-new", "[2001:db8::1]:443"), func(o obj) {
			o["type"], o["expected_status"], o["probe_sites"] = "tcp", []any{"200-399"}, []any{"dc1", "dc1"}
		})},
		{api.KindTrafficPolicy, edit(f, policyFixture("fz-new", "fz", "missing"), func(o obj) {
			o["mode"], o["when_all_down"], o["fallback"] = "active-active", "fallback", obj{"cname": "sorry.example.net"}
			o["rto_seconds"], o["burst_toggle"] = 40, "fz"
			sub(o, "targets", "secondary")["burst_only"] = true
			sub(o, "targets", "secondary")["weight"] = 1001
		})},
		{api.KindReplicaSet, edit(f, replicaSetFixture("fz-new"), func(o obj) {
			sub(o, "members", "arb")["priority"] = 0.5
			sub(o, "members", "db-2")["secondary_delay_seconds"] = 3600
			sub(o, "members", "db-2")["tags"] = obj{"site": "dc9", "$bad": "x"}
			sub(o, "members", "db-1")["health_check"] = "fz"
		})},
		{api.KindBurstToggle, edit(f, toggleFixture("fz-new"), func(o obj) {
			o["engaged"], o["expires_at"] = true, "2030-01-01T00:00:00+14:00"
			o["schedule"] = []any{obj{"start": "2025-11-28T00:00:00Z", "end": "2025-12-01T06:00:00Z"}, obj{"start": "0000-01-01T00:00:00+01:00", "end": "9999-12-31T23:59:59-01:00"}}
			o["body_engaged"], o["body_released"] = "burst", "burst\n"
		})},
	}
	for _, n := range near {
		i := uint8(0)
		for j, k := range api.Kinds {
			if k == n.kind {
				i = uint8(j)
			}
		}
		f.Add(i, mustJSON(f, n.body), false)
		put := clone(f, n.body)
		put["name"] = "fz"
		f.Add(i, mustJSON(f, put), true)
	}

	h := fuzzWorld(f)
	f.Fuzz(func(t *testing.T, kind uint8, body []byte, put bool) {
		k := api.Kinds[int(kind)%len(api.Kinds)]

		// The decoder on its own.
		o, probs, decoded := decodeObject(k, body, "")
		if o == nil || o.ObjectKind() != k || o.ObjectVersion() != 0 {
			t.Fatalf("decodeObject returned %#v", o)
		}
		if !decoded && len(probs) == 0 {
			t.Fatal("decodeObject: not decoded, but no problem")
		}
		if decoded && len(probs) == 0 && !api.ValidName(o.ObjectName()) {
			t.Fatalf("decodeObject accepted the name %q", o.ObjectName())
		}
		for _, e := range probs {
			if _, err := api.ParsePath(e.Field); err != nil {
				t.Errorf("decodeObject: field path %q does not parse: %v", e.Field, err)
			}
		}

		// The API.
		method, path := http.MethodPost, "/v1/"+string(k)
		if put {
			method, path = http.MethodPut, objPath(k, "fz")
		}
		r := h.do(t, method, path, adminToken, body)
		switch {
		case r.Status >= 500:
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		case r.Status == http.StatusCreated || (put && r.Status == http.StatusOK):
			name := o.ObjectName()
			if put {
				name = "fz"
			}
			got := h.get(t, k, name)
			if got.Header.Get("ETag") != r.Header.Get("ETag") {
				t.Errorf("answered ETag %s, GET %s", r.Header.Get("ETag"), got.Header.Get("ETag"))
			}
			if a, b := comparable(t, k, r.Body), comparable(t, k, got.Body); !reflect.DeepEqual(a, b) {
				t.Fatalf("%s answered\n%s\nbut GET reads\n%s", method, r.Body, got.Body)
			}
			// What GET returns is a valid request that changes nothing.
			again := h.do(t, http.MethodPut, objPath(k, name), adminToken, got.Body)
			if again.Status != http.StatusOK || again.Header.Get("ETag") != got.Header.Get("ETag") {
				t.Fatalf("PUT of the GET body %s: %d ETag %s (was %s): %s", got.Body, again.Status,
					again.Header.Get("ETag"), got.Header.Get("ETag"), again.Body)
			}
			if !put {
				h.do(t, http.MethodDelete, objPath(k, name), adminToken, nil).want(t, http.StatusNoContent)
			}
		case r.Status == http.StatusBadRequest, r.Status == http.StatusConflict:
			wantProblem(t, r)
		default:
			t.Fatalf("%s %s: unexpected %d %s", method, path, r.Status, r.Body)
		}
	})
}

// FuzzOverride feeds arbitrary bodies to PUT .../override: 200 with a
// decision pinned to one of the policy's targets, or a 400 problem.
func FuzzOverride(f *testing.F) {
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, s := range []string{
		`{"target":"secondary","expires_at":"` + soon + `"}`,
		`{"target":"primary","expires_at":"` + soon + `","reason":"INC-1"}`,
		`{"target":"secondary","expires_at":"` + soon + `","set_by":"someone-else"}`,
		`{"target":"dc9","expires_at":"` + soon + `"}`,
		`{"target":"secondary"}`,
		`{"target":"secondary","expires_at":"2001-01-01T00:00:00Z"}`,
		`{"target":"secondary","expires_at":"9999-12-31T23:59:59Z"}`,
		`{"target":"secondary","expires_at":"0000-01-01T00:00:00+01:00"}`,
		`{"target":"secondary","expires_at":"soon"}`,
		`{"target":1}`,
		`{"target":"secondary","expires_at":"` + soon + `"} trailing`,
		`{}`, ``, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
	h := fuzzWorld(f)
	const path = "/v1/traffic-policies/fz/override"
	f.Fuzz(func(t *testing.T, body []byte) {
		r := h.do(t, http.MethodPut, path, operateToken, body)
		switch r.Status {
		case http.StatusOK:
			var d api.Decision
			r.decode(t, &d)
			if d.Override == nil || (d.Override.Target != "primary" && d.Override.Target != "secondary") ||
				d.Override.SetBy != operateName || !d.Override.ExpiresAt.After(time.Now().Add(-time.Minute)) {
				t.Fatalf("override answered %s", r.Body)
			}
			if got := h.decision(t, "fz"); got.Override == nil || got.Override.Target != d.Override.Target {
				t.Fatalf("GET decision %+v after override %+v", got, d.Override)
			}
			h.do(t, http.MethodDelete, path, operateToken, nil).want(t, http.StatusOK)
			if got := h.decision(t, "fz"); got.Override != nil {
				t.Fatalf("override not cleared: %+v", got)
			}
		case http.StatusBadRequest:
			wantProblem(t, r)
			if d := h.decision(t, "fz"); d.Override != nil {
				t.Fatalf("a refused override is in effect: %+v", d)
			}
		default:
			t.Fatalf("unexpected %d %s", r.Status, r.Body)
		}
	})
}

// FuzzBurstPatch feeds arbitrary bodies to the operators' PATCH: 200 with
// the toggle in the requested state (and /burst agreeing), or a 400
// problem that changes nothing.
func FuzzBurstPatch(f *testing.F) {
	for _, s := range []string{
		`{"engaged":true}`, `{"engaged":false}`, ` {"engaged" : true} `,
		`{"engaged":null}`, `{"engaged":"true"}`, `{"engaged":1}`, `{"engaged":true,"x":1}`,
		`{"engaged":true}{"engaged":false}`, `{"Engaged":true}`, `{}`, ``, `null`, `[true]`, `{"engaged":tru`,
	} {
		f.Add([]byte(s))
	}
	h := fuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		before := h.get(t, api.KindBurstToggle, "fz")
		r := h.do(t, http.MethodPatch, "/v1/burst-toggles/fz", operateToken, body)
		var tg api.BurstToggle
		switch r.Status {
		case http.StatusOK:
			// What was asked, read the way encoding/json reads it.
			var want api.BurstPatch
			if err := json.Unmarshal(body, &want); err != nil || want.Engaged == nil {
				t.Fatalf("PATCH %q accepted (%v)", body, err)
			}
			h.get(t, api.KindBurstToggle, "fz").decode(t, &tg)
			if api.Bool(tg.Engaged, !*want.Engaged) != *want.Engaged {
				t.Fatalf("PATCH %q: toggle reads %+v", body, tg)
			}
		case http.StatusBadRequest:
			wantProblem(t, r)
			if after := h.get(t, api.KindBurstToggle, "fz"); !bytes.Equal(after.Body, before.Body) {
				t.Fatalf("refused PATCH %q changed %s into %s", body, before.Body, after.Body)
			}
			h.get(t, api.KindBurstToggle, "fz").decode(t, &tg)
		default:
			t.Fatalf("unexpected %d %s", r.Status, r.Body)
		}
		code, wantBody := http.StatusServiceUnavailable, tg.BodyReleased
		if api.Bool(tg.Effective, false) {
			code, wantBody = http.StatusOK, tg.BodyEngaged
		}
		// Exactly the configured body: load balancers match the whole of it.
		if b := h.do(t, http.MethodGet, "/burst/fz", noToken, nil); b.Status != code || string(b.Body) != wantBody {
			t.Fatalf("/burst/fz answered %d %q for %+v", b.Status, b.Body, tg)
		}
	})
}
