package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// want is one expected problem: its exact field path and phrases of its detail.
type want struct {
	field  string
	detail []string
}

func checkProblems(t *testing.T, got Problems, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(wants), listProblems(got))
	}
	for i, w := range wants {
		g := got[i]
		if g.Field != w.field || g.Severity != SeverityError {
			t.Errorf("problem %d is on %q (%s), want %q:\n%s", i, g.Field, g.Severity, w.field, listProblems(got))
		}
		for _, d := range w.detail {
			if !strings.Contains(g.Detail, d) {
				t.Errorf("problem %d %q does not say %q", i, g.Detail, d)
			}
		}
		if _, err := ParsePath(g.Field); err != nil {
			t.Errorf("problem %d: %v", i, err)
		}
	}
}

func listProblems(p Problems) string {
	var b strings.Builder
	for _, e := range p {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	return b.String()
}

// decodeAs decodes body into a new value of the type of sample.
func decodeAs(sample any, body string) (any, ExplicitZeros, Problems) {
	v := reflect.New(reflect.TypeOf(sample))
	set, p := Decode([]byte(body), v.Interface())
	return v.Elem().Interface(), set, p
}

// TestDecodeRejects covers each way encoding/json with
// DisallowUnknownFields was looser than the contract, and the refusals
// that were right already.
func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		sample any
		body   string
		want   []want
	}{
		// Field names match exactly.
		{"case differs", HealthCheck{}, `{"Rise":2}`,
			[]want{{"", []string{`unknown field "Rise"`, `did you mean "rise"?`, "case-sensitive"}}}},
		{"case differs, nested", TrafficPolicy{}, `{"targets":{"dc1":{"Priority":1}}}`,
			[]want{{`targets["dc1"]`, []string{`unknown field "Priority"`, `did you mean "priority"?`}}}},
		{"camelCase", HealthCheck{}, `{"intervalSeconds":5}`,
			[]want{{"", []string{`"intervalSeconds"`, `did you mean "interval_seconds"?`, "snake_case"}}}},
		{"missing separator", HealthCheck{}, `{"intervalseconds":5}`,
			[]want{{"intervalseconds", []string{"unknown field", `did you mean "interval_seconds"?`}}}},
		{"short name", TrafficPolicy{}, `{"ttl":5}`,
			[]want{{"ttl", []string{"unknown field", `did you mean "ttl_seconds"?`}}}},
		{"transposed letters", BurstToggle{}, `{"nmae":"x","enagaged":true}`,
			[]want{{"nmae", []string{`did you mean "name"?`}}, {"enagaged", []string{`did you mean "engaged"?`}}}},
		{"far from any field", HealthCheck{}, `{"colour":"blue"}`,
			[]want{{"colour", []string{"unknown field: remove it"}}}},
		{"unknown field in a list element", BurstToggle{}, `{"schedule":[{"start":"2026-11-27T00:00:00Z","end":"2026-11-28T00:00:00Z","ends":1}]}`,
			[]want{{"schedule[0].ends", []string{`did you mean "end"?`}}}},
		{"unknown field in an object", HealthCheck{}, `{"tls":{"servername":"x"}}`,
			[]want{{"tls.servername", []string{`did you mean "server_name"?`}}}},
		{"computed field of another kind", BurstToggle{}, `{"fqdn":"x.example.org"}`,
			[]want{{"fqdn", []string{"unknown field"}}}},

		// Duplicate keys, at any depth.
		{"duplicate key", HealthCheck{}, `{"rise":2,"rise":3}`,
			[]want{{"rise", []string{"set twice"}}}},
		{"duplicate key, second null", HealthCheck{}, `{"rise":2,"rise":null}`,
			[]want{{"rise", []string{"set twice"}}}},
		{"duplicate map key", TrafficPolicy{}, `{"targets":{"dc1":{},"dc1":{}}}`,
			[]want{{`targets["dc1"]`, []string{"listed twice"}}}},
		{"duplicate map key spelled with an escape", HealthCheck{}, `{"headers":{"X-A":"1","X\u002dA":"2"}}`,
			[]want{{`headers["X-A"]`, []string{"listed twice"}}}},
		{"duplicate key in a map element", ReplicaSet{}, `{"members":{"db-3":{"votes":1,"votes":0}}}`,
			[]want{{`members["db-3"].votes`, []string{"set twice"}}}},
		{"duplicate key in a list element", BurstToggle{}, `{"schedule":[{"end":"2026-11-28T00:00:00Z","end":"2026-11-29T00:00:00Z"}]}`,
			[]want{{"schedule[0].end", []string{"set twice"}}}},
		{"duplicate key in a patch", BurstPatch{}, `{"engaged":true,"engaged":false}`,
			[]want{{"engaged", []string{"set twice"}}}},

		// Every problem, each on its exact path, map keys being user names.
		{"every problem at once", TrafficPolicy{}, `{
			"name": 1,
			"mode": "active-passive",
			"ttl_seconds": "30",
			"targets": {
				"dc1": {"priority": "1", "weight": 1.5, "addresses": "192.0.2.1"},
				"dc.2": {"priority": true, "enabled": "yes"}
			},
			"fallback": [],
			"colour": "blue",
			"mode": "active-active"
		}`, []want{
			{"name", []string{"expected a string, got the number 1"}},
			{"ttl_seconds", []string{`expected a whole number, got the string "30"`, "without quotes"}},
			{`targets["dc1"].priority`, []string{"expected a whole number"}},
			{`targets["dc1"].weight`, []string{"expected a whole number, got 1.5"}},
			{`targets["dc1"].addresses`, []string{`expected a list, got the string "192.0.2.1"`}},
			{`targets["dc.2"].priority`, []string{"expected a whole number, got true"}},
			{`targets["dc.2"].enabled`, []string{`expected true or false, got the string "yes"`}},
			{"fallback", []string{"expected an object, got a list"}},
			{"colour", []string{"unknown field"}},
			{"mode", []string{"set twice"}},
		}},
		{"type error in a member", ReplicaSet{}, `{"members":{"db-3":{"votes":"1","priority":"high","tags":{"rack":7}}}}`,
			[]want{
				{`members["db-3"].votes`, []string{"expected a whole number"}},
				{`members["db-3"].priority`, []string{"expected a number"}},
				{`members["db-3"].tags["rack"]`, []string{"expected a string, got the number 7"}},
			}},
		{"type error in headers", HealthCheck{}, `{"headers":{"X-A":5,"x.b":false}}`,
			[]want{{`headers["X-A"]`, []string{"expected a string"}}, {`headers["x.b"]`, []string{"expected a string, got false"}}}},
		{"type error in a list", HealthCheck{}, `{"expected_status":["200",204,"3xx"],"probe_sites":"dc1"}`,
			[]want{{"expected_status[1]", []string{"expected a string, got the number 204"}}, {"probe_sites", []string{"expected a list"}}}},
		{"numbers out of range", HealthCheck{}, `{"rise":99999999999999999999,"interval_seconds":1e400,"version":-1}`,
			[]want{
				{"rise", []string{"99999999999999999999 is out of range"}},
				{"interval_seconds", []string{"1e400 is out of range"}},
				{"version", []string{"expected a whole number, 0 or more, got -1"}},
			}},

		// Times say where and which format.
		{"bad time", BurstToggle{}, `{"expires_at":"tomorrow"}`,
			[]want{{"expires_at", []string{`"tomorrow" is not an RFC 3339 time`, RFC3339Example}}}},
		{"time without zone", BurstToggle{}, `{"schedule":[{"start":"2026-11-27T00:00:00Z","end":"2026-11-28T00:00:00"}]}`,
			[]want{{"schedule[0].end", []string{"not an RFC 3339 time", RFC3339Example}}}},
		{"time as a number", Override{}, `{"target":"dc1","expires_at":1764201600}`,
			[]want{{"expires_at", []string{"expected an RFC 3339 time such as", RFC3339Example, "got the number 1764201600"}}}},

		// The body as a whole.
		{"empty", HealthCheck{}, ``, []want{{"", []string{"empty"}}}},
		{"blank", HealthCheck{}, " \n\t", []want{{"", []string{"empty"}}}},
		{"null", HealthCheck{}, `null`, []want{{"", []string{"the body is null", "send one JSON object"}}}},
		{"array", BurstPatch{}, `[true]`, []want{{"", []string{"the body is a list"}}}},
		{"string", Override{}, `"dc1"`, []want{{"", []string{`the body is the string "dc1"`}}}},
		{"trailing object", BurstPatch{}, `{"engaged":true}{"engaged":false}`, []want{{"", []string{"unexpected data after the JSON object"}}}},
		{"trailing garbage", BurstPatch{}, `{"engaged":true} x`, []want{{"", []string{"unexpected data after the JSON object"}}}},
		{"truncated", BurstToggle{}, `{"name":"x","site":`, []want{{"", []string{"truncated"}}}},
		{"malformed", BurstToggle{}, `{"name" "x"}`, []want{{"", []string{"malformed JSON at byte"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, p := decodeAs(tt.sample, tt.body)
			checkProblems(t, p, tt.want)
		})
	}
}

// TestDecodeMatchesEncodingJSON: what Decode accepts, it reads exactly as
// encoding/json does.
func TestDecodeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		sample any
		body   string
	}{
		{HealthCheck{}, `{"name":"web","site":"dc1","type":"https","address":"[2001:db8::1]:443","path":"/h\u00e9?x=\"1\"",
			"headers":{"X-A":"1","x-b":""},"expected_status":[],"body_match":{"mode":"exact","value":"ok"},
			"tls":{"insecure_skip_verify":false},"interval_seconds":1.5e0,"timeout_seconds":0.25,"rise":-0,"fall":null,
			"probe_sites":null,"enabled":false,"version":18446744073709551615}`},
		{TrafficPolicy{}, `{"name":"web","ttl_seconds":0,"failover_delay_seconds":0,"targets":{"dc1":{"weight":0,"priority":1,"health_checks":["a","b"]},"":{}},
			"fallback":{"cname":"sorry.example.net"},"warnings":["x"],"worst_case_failover_seconds":62.5}`},
		{ReplicaSet{}, `{"members":{"db-1":{"votes":0,"priority":0,"tags":{"rack":"a"}},"db-2":null},"member_ids":{"db-1":0},
			"analysis":{"voting_members":3,"site_loss":{"dc1":{"survives":true}}}}`},
		{BurstToggle{}, `{"engaged":null,"schedule":[{"start":"2026-11-27T00:00:00+01:00","end":"2026-11-28T00:00:00.123456789Z"}],"expires_at":"9999-12-31T23:59:59Z","body_engaged":"\ud83d\ude80 go"}`},
		{BurstPatch{}, ` {"engaged" : true} `},
		{Override{}, `{"target":"dc1","expires_at":"2026-11-27T00:00:00Z","reason":"INC-1","set_by":"x"}`},
		{HealthCheck{}, "{\"name\":\"\xff\xfe\"}"}, // invalid UTF-8 becomes U+FFFD, as in encoding/json
	}
	for _, tt := range tests {
		got, _, p := decodeAs(tt.sample, tt.body)
		if len(p) > 0 {
			t.Errorf("Decode(%s): %s", tt.body, listProblems(p))
			continue
		}
		std := reflect.New(reflect.TypeOf(tt.sample))
		if err := json.Unmarshal([]byte(tt.body), std.Interface()); err != nil {
			t.Fatalf("encoding/json refuses %s: %v", tt.body, err)
		}
		if !reflect.DeepEqual(got, std.Elem().Interface()) {
			t.Errorf("Decode(%s)\n = %#v\nencoding/json reads\n   %#v", tt.body, got, std.Elem().Interface())
		}
	}
}

// TestDecodeExplicitZeros: the attributes a body sets to 0, "" or false,
// null being omitted, in nested objects, maps and lists too.
func TestDecodeExplicitZeros(t *testing.T) {
	tests := []struct {
		sample any
		body   string
		want   []string
	}{
		{HealthCheck{}, `{"rise":0,"fall":null,"interval_seconds":-0,"timeout_seconds":0.0,"path":"/","tls":{"server_name":"","insecure_skip_verify":false},"headers":{"X-A":""},"expected_status":[]}`,
			[]string{"rise", "interval_seconds", "timeout_seconds", "tls.server_name", "tls.insecure_skip_verify"}},
		{TrafficPolicy{}, `{"ttl_seconds":0,"targets":{"dc1":{"weight":0,"enabled":null,"priority":1},"dc2":{}}}`,
			[]string{"ttl_seconds", `targets["dc1"].weight`}},
		{BurstToggle{}, `{"engaged":false,"schedule":[{"start":"2026-11-27T00:00:00Z"},{"end":"0001-01-01T00:00:00Z"}]}`,
			[]string{"engaged"}},
		{BurstPatch{}, `{"engaged":null}`, nil},
		{HealthCheck{}, `{"rise":"0","fall":0,"fall":0}`, []string{"fall"}}, // a wrong type is no zero
	}
	for _, tt := range tests {
		_, zeros, _ := decodeAs(tt.sample, tt.body)
		var got []string
		for f := range zeros {
			got = append(got, f)
		}
		if !equalSets(got, tt.want) {
			t.Errorf("Decode(%s) finds zeros %q, want %q", tt.body, got, tt.want)
		}
	}
}

func equalSets(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestDecodeBounded: problems are capped with a count of the rest, and an
// unknown field may nest as deep as JSON allows without costing a stack.
func TestDecodeBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range MaxDecodeProblems + 500 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"x%d":0`, i)
	}
	b.WriteString("}")
	_, _, p := decodeAs(HealthCheck{}, b.String())
	if len(p) != MaxDecodeProblems+1 || !strings.Contains(p[len(p)-1].Detail, "and 500 more problems") {
		t.Errorf("got %d problems, the last %q", len(p), p[len(p)-1])
	}

	const depth = 9000 // encoding/json's scanner refuses 10,000
	deep := `{"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `,"rise":"2"}`
	_, _, p = decodeAs(HealthCheck{}, deep)
	checkProblems(t, p, []want{{"x", []string{"unknown field"}}, {"rise", []string{"expected a whole number"}}})
}

// TestNormalizeExplicit: a zero the body sets where zero means "the
// default" is refused with the fix; where zero is a value of its own it is
// kept; an omitted field gets its default silently.
func TestNormalizeExplicit(t *testing.T) {
	type normalizer interface{ NormalizeExplicit(ExplicitZeros) Problems }
	tests := []struct {
		name   string
		sample any
		body   string
		want   []want
		check  func(v any) string // what the kept zeros must read
	}{
		{"health check zeros", HealthCheck{}, `{"path":"","method":"","interval_seconds":0,"timeout_seconds":0,"rise":0,"fall":0,"quorum":""}`,
			[]want{
				{"path", []string{`"" is not allowed: omit it for the default "/", or set an absolute path`}},
				{"method", []string{`"" is not allowed: omit it for the default "GET"`}},
				{"interval_seconds", []string{"0 is not allowed: omit it for the default 10, or set at least 1"}},
				{"timeout_seconds", []string{"0 is not allowed: omit it for the default 2, or set a value below interval_seconds"}},
				{"rise", []string{"0 is not allowed: omit it for the default 2, or set 1 to 100"}},
				{"fall", []string{"0 is not allowed: omit it for the default 3, or set 1 to 100"}},
				{"quorum", []string{`"" is not allowed: omit it for the default "majority", or set "all" or "any"`}},
			}, nil},
		{"negative zero is zero", HealthCheck{}, `{"interval_seconds":-0.0}`,
			[]want{{"interval_seconds", []string{"0 is not allowed"}}}, nil},
		{"health check zeros that are values", HealthCheck{}, `{"enabled":false,"expected_status":[],"host_header":"","headers":{},"probe_sites":[]}`, nil,
			func(v any) string {
				c := v.(*HealthCheck)
				if *c.Enabled || c.ExpectedStatus == nil || len(c.ExpectedStatus) != 0 {
					return fmt.Sprintf("enabled %v, expected_status %#v", *c.Enabled, c.ExpectedStatus)
				}
				return ""
			}},
		{"health check omitted", HealthCheck{}, `{"rise":null}`, nil,
			func(v any) string {
				c := v.(*HealthCheck)
				if c.Rise != DefaultRise || c.IntervalSeconds != DefaultIntervalSeconds || c.Path != DefaultPath {
					return fmt.Sprintf("%+v", c)
				}
				return ""
			}},
		{"policy zeros", TrafficPolicy{}, `{"failback":"","ttl_seconds":0,"failover_delay_seconds":0,"failback_delay_seconds":0,"rto_seconds":0,
			"targets":{"dc1":{"weight":0,"priority":0,"enabled":false}}}`,
			[]want{{"failback", []string{`"" is not allowed: omit it for the default "auto", or set "auto" or "manual"`}}},
			func(v any) string {
				p := v.(*TrafficPolicy)
				if *p.TTLSeconds != 0 || *p.FailbackDelaySeconds != 0 || *p.Targets["dc1"].Weight != 0 || *p.Targets["dc1"].Enabled {
					return fmt.Sprintf("%+v", p)
				}
				return ""
			}},
		{"replica set zeros", ReplicaSet{}, `{"engine":"","require_site_fault_tolerance":false,
			"members":{"arb":{"votes":1,"priority":0,"arbiter":true},"db-1":{"votes":0,"priority":0,"secondary_delay_seconds":0}}}`,
			[]want{{"engine", []string{`"" is not allowed: omit it for the default "mongodb"`}}},
			func(v any) string {
				r := v.(*ReplicaSet)
				if *r.Members["db-1"].Votes != 0 || *r.Members["db-1"].Priority != 0 || *r.RequireSiteFaultTolerance {
					return fmt.Sprintf("%+v", r)
				}
				return ""
			}},
		{"toggle zeros", BurstToggle{}, `{"body_engaged":"","body_released":"","engaged":false}`,
			[]want{
				{"body_engaged", []string{`"" is not allowed: omit it for the default "burst"`}},
				{"body_released", []string{`"" is not allowed: omit it for the default "no-burst"`}},
			},
			func(v any) string {
				if e := v.(*BurstToggle).Engaged; e == nil || *e {
					return "engaged is not false"
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := reflect.New(reflect.TypeOf(tt.sample))
			zeros, p := Decode([]byte(tt.body), v.Interface())
			if len(p) > 0 {
				t.Fatalf("Decode: %s", listProblems(p))
			}
			checkProblems(t, v.Interface().(normalizer).NormalizeExplicit(zeros), tt.want)
			if tt.check != nil {
				if msg := tt.check(v.Interface()); msg != "" {
					t.Errorf("zeros not kept: %s", msg)
				}
			}
		})
	}
}

// TestNormalizeExplicitCoversNormalize: every scalar attribute that
// Normalize replaces when zero is one NormalizeExplicit refuses when set to
// zero. A default filled some other way would make an explicit zero
// silently become the default again.
func TestNormalizeExplicitCoversNormalize(t *testing.T) {
	type normalizer interface {
		Normalize()
		NormalizeExplicit(ExplicitZeros) Problems
	}
	samples := []normalizer{
		&HealthCheck{},
		&TrafficPolicy{Targets: map[string]PolicyTarget{"t": {}}},
		&ReplicaSet{Members: map[string]Member{"m": {}}},
		&BurstToggle{},
	}
	for _, s := range samples {
		orig := reflect.ValueOf(s).Elem()
		zero := reflect.New(orig.Type())
		zero.Elem().Set(orig)
		// Normalize fills the zero value; compare field by field.
		filled := reflect.New(orig.Type())
		filled.Elem().Set(deepCopy(orig))
		filled.Interface().(normalizer).Normalize()
		for _, f := range defaultedScalars("", deepCopy(orig), filled.Elem()) {
			again := reflect.New(orig.Type())
			again.Elem().Set(deepCopy(orig))
			p := again.Interface().(normalizer).NormalizeExplicit(ExplicitZeros{f: {}})
			if len(p) != 1 || p[0].Field != f {
				t.Errorf("%s: Normalize defaults %s when zero, but NormalizeExplicit does not refuse an explicit zero there: %v", orig.Type(), f, p)
			}
		}
	}
}

// defaultedScalars lists the paths of the scalar fields that differ
// between before and after.
func defaultedScalars(path string, before, after reflect.Value) []string {
	var out []string
	switch before.Kind() {
	case reflect.Struct:
		info := structInfoOf(before.Type())
		for _, f := range info.fields {
			p := f.name
			if path != "" {
				p = path + "." + f.name
			}
			out = append(out, defaultedScalars(p, before.Field(f.index), after.Field(f.index))...)
		}
	case reflect.Map:
		for _, k := range before.MapKeys() {
			out = append(out, defaultedScalars(MapKey(path, k.String()), before.MapIndex(k), after.MapIndex(k))...)
		}
	case reflect.String, reflect.Int, reflect.Float64, reflect.Bool, reflect.Uint64:
		if before.Interface() != after.Interface() {
			out = append(out, path)
		}
	}
	return out
}

// deepCopy copies v through JSON-free reflection deep enough for the
// samples above (maps of structs).
func deepCopy(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	out.Set(v)
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() == reflect.Map && !f.IsNil() {
			m := reflect.MakeMap(f.Type())
			for _, k := range f.MapKeys() {
				m.SetMapIndex(k, f.MapIndex(k))
			}
			out.Field(i).Set(m)
		}
	}
	return out
}

// The old decoder: encoding/json with DisallowUnknownFields, for comparison.
func decodeStd(b []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func benchPolicy(targets int) []byte {
	p := TrafficPolicy{Name: "web", Mode: ModeActivePassive, WhenAllDown: AllDownFailOpen, Targets: map[string]PolicyTarget{}}
	for i := range targets {
		p.Targets[fmt.Sprintf("target-%d", i)] = PolicyTarget{Site: "dc1", Addresses: []string{"192.0.2.1", "2001:db8::1"},
			HealthChecks: []string{"web-dc1"}, Priority: i + 1, Weight: ptr(1)}
	}
	b, _ := json.Marshal(p)
	return b
}

// BenchmarkDecode compares Decode with the encoding/json decoding it
// replaces, on a typical health check, on a policy near the 1 MiB body
// limit, and on 1 MiB bodies made of mistakes (where encoding/json stops
// at the first unknown field but reads on past type errors).
func BenchmarkDecode(b *testing.B) {
	check, _ := json.Marshal(HealthCheck{Name: "web", Site: "dc1", Type: CheckHTTPS, Address: "192.0.2.10:443", Path: "/healthz",
		Headers: map[string]string{"X-Probe": "failoverd"}, ExpectedStatus: []string{"200-299"}, IntervalSeconds: 5, TimeoutSeconds: 1,
		Rise: 2, Fall: 3, TLS: &TLSConfig{ServerName: "www.example.org"}})
	big := benchPolicy(6500)
	mistakes := func(member func(i int) string) []byte {
		var s strings.Builder
		s.WriteString("{")
		for i := 0; s.Len() < 1<<20-64; i++ {
			if i > 0 {
				s.WriteString(",")
			}
			s.WriteString(member(i))
		}
		s.WriteString("}")
		return []byte(s.String())
	}
	unknown := mistakes(func(i int) string { return fmt.Sprintf(`"risee%d":0`, i) })
	types := []byte(`{"targets":` + string(mistakes(func(i int) string { return fmt.Sprintf(`"t%d":{"priority":"1"}`, i) })) + "}")
	for _, c := range []struct {
		name     string
		body     []byte
		new      func() any
		problems bool
	}{
		{"check", check, func() any { return new(HealthCheck) }, false},
		{"policy-1MiB", big, func() any { return new(TrafficPolicy) }, false},
		{"unknown-fields-1MiB", unknown, func() any { return new(HealthCheck) }, true},
		{"type-errors-1MiB", types, func() any { return new(TrafficPolicy) }, true},
	} {
		b.Run(c.name+"/Decode", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, p := Decode(c.body, c.new()); (len(p) > 0) != c.problems {
					b.Fatal(p)
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decodeStd(c.body, c.new()); (err != nil) != c.problems {
					b.Fatal(err)
				}
			}
		})
	}
}

// bodyTypes are the request bodies Decode reads, for the fuzz target.
var bodyTypes = []any{HealthCheck{}, TrafficPolicy{}, ReplicaSet{}, BurstToggle{}, BurstPatch{}, Override{}}

// FuzzDecode: Decode never panics; what it accepts, encoding/json reads the
// same, and it survives a round trip (encode, decode again) unchanged;
// what it refuses comes with at least one problem, every problem with a
// detail and a path the provider parses. NormalizeExplicit's problems
// parse too.
func FuzzDecode(f *testing.F) {
	ts := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	samples := []any{
		HealthCheck{Name: "web", Site: "dc1", Type: CheckHTTP, Address: "192.0.2.10:80", Headers: map[string]string{"X-A": "1"},
			ExpectedStatus: []string{"200"}, BodyMatch: &BodyMatch{Mode: MatchExact, Value: "ok"}, TLS: &TLSConfig{ServerName: "x"},
			IntervalSeconds: 1.5, Rise: 2, Enabled: ptr(false), Version: 3},
		TrafficPolicy{Name: "web", Mode: ModeActiveActive, TTLSeconds: ptr(0), Targets: map[string]PolicyTarget{
			"dc1": {Site: "dc1", Addresses: []string{"192.0.2.1"}, Weight: ptr(0)}, "dc.2": {CNAME: "lb.example.net", Priority: 2}},
			WhenAllDown: AllDownFallback, Fallback: &Fallback{CNAME: "sorry.example.net"}},
		ReplicaSet{Name: "rs", Members: map[string]Member{"db-1": {Host: "db-1:27017", Site: "dc1", Votes: ptr(0), Priority: ptr(0.5),
			Tags: map[string]string{"rack": "a"}}}, RequireSiteFaultTolerance: ptr(false)},
		BurstToggle{Name: "bt", Site: "dr", Engaged: ptr(true), Schedule: []Window{{Start: ts, End: ts.Add(time.Hour)}}, ExpiresAt: &ts},
		BurstPatch{Engaged: ptr(true)},
		Override{Target: "dc1", ExpiresAt: ts, Reason: "INC-1"},
	}
	for i, s := range samples {
		b, _ := json.Marshal(s)
		f.Add(uint8(i), b)
		f.Add(uint8(i), append(b[:len(b)-1:len(b)-1], `,"name":"x","Name":"y","rise":"2","colour":1}`...))
		f.Add(uint8(i), b[:len(b)/2])
	}
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"rise":0,"rise":0}`, `{"targets":{"a":{"priority":"1"},"a":{}}}`,
		`{"schedule":[{"start":"2026-11-27T00:00:00","end":5}]}`, `{"expires_at":"2026-02-30T00:00:00Z"}`,
		`{"members":{"db":{"votes":1e3,"priority":-0}}}`, `{"headers":{"\u0000":"\ud800"}}`, `{"x":[[[{"y":{}}]]]}`,
		`{"interval_seconds":1e309,"version":18446744073709551616}`, "{\"\xff\":1}", `{"engaged":true} {}`} {
		for i := range bodyTypes {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		typ := reflect.TypeOf(bodyTypes[int(kind)%len(bodyTypes)])
		v := reflect.New(typ)
		zeros, p := Decode(body, v.Interface())
		for field := range zeros {
			if _, err := ParsePath(field); err != nil {
				t.Errorf("explicit zero %q: %v", field, err)
			}
		}
		if len(p) > 0 {
			for _, e := range p {
				if e.Detail == "" || e.Severity != SeverityError {
					t.Errorf("problem %+v: want a detail and severity error", e)
				}
				if _, err := ParsePath(e.Field); err != nil {
					t.Errorf("problem on %q: %v", e.Field, err)
				}
			}
			return
		}

		std := reflect.New(typ)
		if err := json.Unmarshal(body, std.Interface()); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		got, _ := json.Marshal(v.Interface())
		if exp, _ := json.Marshal(std.Interface()); string(got) != string(exp) {
			t.Fatalf("read %q as\n%s\nencoding/json reads\n%s", body, got, exp)
		}
		again := reflect.New(typ)
		if _, p := Decode(got, again.Interface()); len(p) > 0 {
			t.Fatalf("refused its own encoding %s: %s", got, listProblems(p))
		}
		if b, _ := json.Marshal(again.Interface()); string(b) != string(got) {
			t.Fatalf("round trip changed\n%s\ninto\n%s", got, b)
		}
		if n, ok := v.Interface().(interface{ NormalizeExplicit(ExplicitZeros) Problems }); ok {
			for _, e := range n.NormalizeExplicit(zeros) {
				if _, err := ParsePath(e.Field); err != nil {
					t.Errorf("explicit zero on %q: %v", e.Field, err)
				}
			}
		}
	})
}
