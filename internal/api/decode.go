package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// ExplicitZeros is the set of attributes a request body or a Terraform
// configuration sets explicitly to their zero value (0, "" or false; a
// JSON or Terraform null counts as omitted), as field paths in the
// provider's notation: "interval_seconds", `targets["dc1"].weight`,
// "schedule[0].end".
//
// It exists for NormalizeExplicit: Normalize reads a zero as "omitted", so
// without it an explicit `"rise": 0` would silently become the default
// instead of an error. Only zeros are recorded, not every attribute set:
// they are all NormalizeExplicit asks about, and a large body holds few.
type ExplicitZeros map[string]struct{}

// Add records that path is set to its zero value.
func (z ExplicitZeros) Add(path string) { z[path] = struct{}{} }

// Has reports whether path is set to its zero value. A nil set holds nothing.
func (z ExplicitZeros) Has(path string) bool {
	_, ok := z[path]
	return ok
}

// MaxDecodeProblems bounds the problems Decode keeps, so a body made of
// mistakes costs bounded memory; the rest are counted in one last problem.
const MaxDecodeProblems = 1000

// RFC3339Example is the time format the API reads, as a message shows it.
const RFC3339Example = "2026-11-27T00:00:00Z"

// Decode strictly decodes a request body, exactly one JSON object, into v,
// a non-nil pointer to a body type (HealthCheck, TrafficPolicy, ReplicaSet,
// BurstToggle, BurstPatch, Override). Stricter than encoding/json, as DESIGN
// §4.2 requires:
//
//   - field names match exactly (encoding/json ignores case), and an
//     unknown field is named, with a suggestion when one is close;
//   - a key repeated in one object is an error (encoding/json keeps the
//     last value, so one of the two silently loses);
//   - every problem is reported — all wrong types, unknown fields,
//     duplicates and malformed times — each on its own path
//     (`targets["dc1"].priority`, `headers["X-A"]`, "schedule[0].end");
//   - an empty body, anything but one object, and trailing data are
//     refused.
//
// What it accepts, it reads exactly as encoding/json does. It returns the
// attributes set to their zero value, for NormalizeExplicit. v holds what
// could be decoded even when there are problems. Memory is linear in the
// body: values are decoded in place, never into a generic tree first.
func Decode(body []byte, v any) (ExplicitZeros, Problems) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		panic(fmt.Sprintf("api.Decode: want a non-nil pointer, got %T", v))
	}
	d := decoder{data: body, zeros: ExplicitZeros{}}
	if len(bytes.TrimSpace(body)) == 0 {
		d.add("the request body is empty: send a JSON object")
		return d.zeros, d.probs
	}
	// Validating first keeps the walk below simple (it may assume
	// well-formed JSON) and gives syntax errors their byte offset.
	if !json.Valid(body) {
		return d.zeros, Problems{syntaxProblem(body)}
	}
	if d.next() != '{' {
		d.add("the body is %s: send one JSON object, e.g. {\"name\": \"web\", …}", d.describe())
		return d.zeros, d.probs
	}
	d.value(rv.Elem())
	return d.zeros, d.problems()
}

// syntaxProblem explains why body is not one well-formed JSON value.
func syntaxProblem(body []byte) FieldError {
	p := func(format string, args ...any) FieldError {
		return FieldError{Severity: SeverityError, Detail: fmt.Sprintf(format, args...)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var first json.RawMessage
	err := dec.Decode(&first)
	var se *json.SyntaxError
	switch {
	case err == nil:
		return p("unexpected data after the JSON object: send exactly one object")
	case errors.As(err, &se):
		return p("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return p("truncated JSON: the body ends mid-value")
	}
	return p("malformed JSON: %v", err)
}

// step is one step of the path to the value being decoded: an attribute,
// a map key or a list index.
type step struct {
	name  string // an attribute, or a map key when key is set
	key   bool
	index int // a list index when name is "" and key is not set
}

type decoder struct {
	data  []byte
	off   int
	zeros ExplicitZeros
	probs Problems
	more  int // problems beyond MaxDecodeProblems
	// at is the path to the value being decoded, rendered only when a
	// problem or an explicit zero needs it: rendering every path would
	// cost more than the decoding.
	at []step
}

func (d *decoder) push(s step) { d.at = append(d.at, s) }
func (d *decoder) pop()        { d.at = d.at[:len(d.at)-1] }

// path renders d.at in the provider's notation.
func (d *decoder) path() string {
	var b strings.Builder
	for _, s := range d.at {
		switch {
		case s.key:
			b.WriteString(MapKey("", s.name))
		case s.name == "":
			b.WriteString(Index("", s.index))
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// add records a problem on the value being decoded.
func (d *decoder) add(format string, args ...any) {
	if d.room() {
		d.probs.Add(d.path(), format, args...)
	}
}

// room reports whether another problem is kept, counting it when not: a
// problem that is not kept is not worth composing.
func (d *decoder) room() bool {
	if len(d.probs) < MaxDecodeProblems {
		return true
	}
	d.more++
	return false
}

func (d *decoder) problems() Problems {
	if d.more > 0 {
		d.probs.Add("", "and %d more problems like the ones above: fix those and send again", d.more)
	}
	return d.probs
}

// The walk below runs on JSON that json.Valid accepted: it never meets a
// syntax error, only values of the wrong type.

func (d *decoder) ws() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

// next skips whitespace and returns the next byte.
func (d *decoder) next() byte {
	d.ws()
	return d.data[d.off]
}

// skipString moves past the string starting at d.off.
func (d *decoder) skipString() {
	i := d.off + 1
	for {
		i += bytes.IndexAny(d.data[i:], `"\`)
		if d.data[i] == '"' {
			d.off = i + 1
			return
		}
		i += 2 // an escape: the escaped byte cannot end the string
	}
}

// skipLiteral moves past a number, true, false or null.
func (d *decoder) skipLiteral() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r', ',', ']', '}':
			return
		}
		d.off++
	}
}

// skip moves past one value. It is iterative: an unknown field may hold
// arbitrarily deep nesting.
func (d *decoder) skip() {
	depth := 0
	for {
		switch d.next() {
		case '{', '[':
			depth++
			d.off++
			continue
		case '}', ']':
			depth--
			d.off++
		case ',', ':':
			d.off++
			continue
		case '"':
			d.skipString()
		default:
			d.skipLiteral()
		}
		if depth == 0 {
			return
		}
	}
}

// raw returns the next value's bytes and moves past it.
func (d *decoder) raw() []byte {
	d.ws()
	start := d.off
	d.skip()
	return d.data[start:d.off]
}

// str reads the string at d.off. The result aliases the body when it can.
func (d *decoder) str() []byte {
	start := d.off
	d.skipString()
	b := d.data[start+1 : d.off-1]
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return b
	}
	// Escapes and invalid UTF-8 (replaced by U+FFFD), as encoding/json reads them.
	var s string
	_ = json.Unmarshal(d.data[start:d.off], &s)
	return []byte(s)
}

// member moves to the next member of an object whose '{' has been read
// and returns its key, leaving d.off at its value; ok is false at the end.
func (d *decoder) member() (key []byte, ok bool) {
	switch d.next() {
	case '}':
		d.off++
		return nil, false
	case ',':
		d.off++
		d.ws()
	}
	key = d.str()
	d.ws()
	d.off++ // :
	d.ws()
	return key, true
}

// describe names the next value for a message, without consuming it.
func (d *decoder) describe() string {
	save := d.off
	b := d.raw()
	d.off = save
	const max = 40
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 'n':
		return "null"
	case 't', 'f':
		return string(b)
	case '"':
		if len(b) > max {
			return "a string"
		}
		return "the string " + string(b)
	}
	if len(b) > max {
		return "a number"
	}
	return "the number " + string(b)
}

// typeError reports a value that is not what is wanted and moves past it.
func (d *decoder) typeError(want string) { d.typeErrorHint(want, "") }

// typeErrorHint is typeError with a hint of how to fix it.
func (d *decoder) typeErrorHint(want, hint string) {
	if d.room() {
		if hint != "" {
			hint = ": " + hint
		}
		d.probs.Add(d.path(), "expected %s, got %s%s", want, d.describe(), hint)
	}
	d.skip()
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// value decodes the value at d.off into v (settable).
func (d *decoder) value(v reflect.Value) {
	if d.next() == 'n' { // null leaves the zero value: omitted
		d.skipLiteral()
		return
	}
	t := v.Type()
	switch k := t.Kind(); {
	case t == timeType:
		d.time(v)
	case reflect.PointerTo(t).Implements(unmarshalerType):
		d.unmarshaler(v)
	case k == reflect.Pointer:
		e := reflect.New(t.Elem())
		d.value(e.Elem())
		v.Set(e)
	case k == reflect.Struct:
		d.object(v)
	case k == reflect.Map && t.Key().Kind() == reflect.String:
		d.mapValue(v)
	case k == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		d.list(v)
	case k == reflect.String:
		if d.data[d.off] != '"' {
			d.typeError("a string")
			return
		}
		v.SetString(string(d.str()))
	case k == reflect.Bool:
		switch d.data[d.off] {
		case 't', 'f':
			v.SetBool(d.data[d.off] == 't')
			d.skipLiteral()
		default:
			d.typeError("true or false")
		}
	case k >= reflect.Int && k <= reflect.Uint64, k == reflect.Float32, k == reflect.Float64:
		d.number(v)
	default:
		d.unmarshaler(v)
	}
}

// unmarshaler decodes a value of a type the walk does not know (none in
// the body types today) the way encoding/json does, which is the contract.
func (d *decoder) unmarshaler(v reflect.Value) {
	if err := json.Unmarshal(d.raw(), v.Addr().Interface()); err != nil {
		d.add("cannot decode: %v", err)
	}
}

func (d *decoder) number(v reflect.Value) {
	k := v.Kind()
	signed := k >= reflect.Int && k <= reflect.Int64
	unsigned := k >= reflect.Uint && k <= reflect.Uint64
	want := "a number"
	switch {
	case signed:
		want = "a whole number"
	case unsigned:
		want = "a whole number, 0 or more"
	}
	if c := d.data[d.off]; c != '-' && (c < '0' || c > '9') {
		hint := ""
		if c == '"' {
			hint = "write the number without quotes" // the commonest mistake
		}
		d.typeErrorHint(want, hint)
		return
	}
	start := d.off
	d.skipLiteral()
	lit := string(d.data[start:d.off])
	var err error
	switch {
	case signed:
		var n int64
		if n, err = strconv.ParseInt(lit, 10, v.Type().Bits()); err == nil {
			v.SetInt(n)
		}
	case unsigned:
		var n uint64
		if n, err = strconv.ParseUint(lit, 10, v.Type().Bits()); err == nil {
			v.SetUint(n)
		}
	default:
		var f float64
		if f, err = strconv.ParseFloat(lit, v.Type().Bits()); err == nil {
			v.SetFloat(f)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, strconv.ErrRange):
		d.add("%s is out of range: set a smaller number", truncate(lit))
	default: // a fraction or an exponent where a whole number is due, or a sign on a count
		d.add("expected %s, got %s", want, truncate(lit))
	}
}

func (d *decoder) time(v reflect.Value) {
	if d.data[d.off] != '"' {
		d.typeError(fmt.Sprintf("an RFC 3339 time such as %q", RFC3339Example))
		return
	}
	b := d.raw()
	if err := v.Addr().Interface().(*time.Time).UnmarshalJSON(b); err != nil {
		d.add("%s is not an RFC 3339 time: write a date, \"T\", a time and a UTC offset or \"Z\", e.g. %q", truncate(string(b)), RFC3339Example)
	}
}

func (d *decoder) mapValue(v reflect.Value) {
	if d.data[d.off] != '{' {
		d.typeError("an object of names to values")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	kt, et := v.Type().Key(), v.Type().Elem()
	d.off++
	for {
		key, ok := d.member()
		if !ok {
			return
		}
		name := string(key)
		k := reflect.ValueOf(name).Convert(kt)
		d.push(step{name: name, key: true})
		if v.MapIndex(k).IsValid() {
			d.add("is listed twice: keep one (JSON would silently use the last)")
			d.skip()
		} else {
			e := reflect.New(et).Elem()
			d.value(e)
			v.SetMapIndex(k, e)
		}
		d.pop()
	}
}

func (d *decoder) list(v reflect.Value) {
	if d.data[d.off] != '[' {
		d.typeError("a list")
		return
	}
	v.Set(reflect.MakeSlice(v.Type(), 0, 0)) // [] is empty, not omitted
	d.off++
	for i := 0; ; i++ {
		switch d.next() {
		case ']':
			d.off++
			return
		case ',':
			d.off++
		}
		v.Grow(1)
		v.SetLen(i + 1)
		d.push(step{index: i})
		d.value(v.Index(i))
		d.pop()
	}
}

func (d *decoder) object(v reflect.Value) {
	if d.data[d.off] != '{' {
		d.typeError("an object")
		return
	}
	info := structInfoOf(v.Type())
	var seen uint64
	d.off++
	for {
		key, ok := d.member()
		if !ok {
			return
		}
		i, known := info.byName[string(key)]
		if !known {
			d.unknown(string(key), info)
			d.skip()
			continue
		}
		d.push(step{name: info.fields[i].name})
		if seen&(1<<i) != 0 {
			d.add("is set twice: keep one (JSON would silently use the last)")
			d.skip()
			d.pop()
			continue
		}
		seen |= 1 << i
		null, before := d.data[d.off] == 'n', len(d.probs)+d.more
		f := v.Field(info.fields[i].index)
		d.value(f)
		if !null && len(d.probs)+d.more == before && isZeroScalar(f) {
			d.zeros.Add(d.path())
		}
		d.pop()
	}
}

// isZeroScalar reports whether v is 0, "" or false, or points to one.
// -0 is 0: Normalize compares with ==.
func isZeroScalar(v reflect.Value) bool {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	switch k := v.Kind(); {
	case k == reflect.String:
		return v.Len() == 0
	case k == reflect.Bool:
		return !v.Bool()
	case k >= reflect.Int && k <= reflect.Int64:
		return v.Int() == 0
	case k >= reflect.Uint && k <= reflect.Uint64:
		return v.Uint() == 0
	case k == reflect.Float32 || k == reflect.Float64:
		return v.Float() == 0
	}
	return false
}

// unknown reports a member that is no field of the object being decoded,
// on the member's own path when its name can be one, else on the object's.
func (d *decoder) unknown(key string, info *structInfo) {
	if !d.room() {
		return
	}
	hint := "remove it, or check its spelling against the API reference (names are snake_case)"
	if s, why := suggest(key, info.names); s != "" {
		hint = fmt.Sprintf("did you mean %q? %s", s, why)
	}
	if attrNameRE.MatchString(key) {
		d.push(step{name: key})
		d.probs.Add(d.path(), "unknown field: %s", hint)
		d.pop()
		return
	}
	d.probs.Add(d.path(), "unknown field %s: %s", truncate(strconv.Quote(key)), hint)
}

// attrNameRE is an attribute name as ParsePath reads one.
var attrNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// separators are what tells snake_case, kebab-case and "Title Case" apart.
var separators = strings.NewReplacer("_", "", "-", "", " ", "")

// suggest returns the field of names that key was probably meant to be.
func suggest(key string, names []string) (name, why string) {
	squash := func(s string) string { return separators.Replace(strings.ToLower(s)) }
	sk := squash(key)
	for _, n := range names {
		if squash(n) == sk {
			return n, "field names are snake_case and case-sensitive"
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, strings.ToLower(key)+"_") {
			return n, "write the field's full name"
		}
	}
	// A typo: at most two edits away, and one per three letters, so that
	// short names are not suggested for everything.
	best, bestDist := "", 3
	for _, n := range names {
		if dist := editDistance(strings.ToLower(key), n, bestDist); dist < bestDist && dist <= max(1, len(n)/3) {
			best, bestDist = n, dist
		}
	}
	if best != "" {
		return best, "remove or rename it"
	}
	return "", ""
}

// editDistance is the optimal string alignment distance of a and b
// (Levenshtein plus transpositions), or limit when it is at least limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit // too far from any field name to be a typo of one
	}
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}

// truncate shortens what a message quotes from the body, so a problem
// never costs much more than the mistake it reports.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// structInfo is a body type's fields by JSON name.
type structInfo struct {
	fields []structField
	byName map[string]int
	names  []string
}

type structField struct {
	name  string
	index int
}

var structInfos sync.Map // reflect.Type → *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if i, ok := structInfos.Load(t); ok {
		return i.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		info.byName[name] = len(info.fields)
		info.fields = append(info.fields, structField{name: name, index: i})
		info.names = append(info.names, name)
	}
	if len(info.fields) > 64 {
		panic(fmt.Sprintf("api.Decode: %s has more than 64 fields", t))
	}
	structInfos.Store(t, info)
	return info
}
