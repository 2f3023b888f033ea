package api

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// ProblemContentType is the media type of every error body (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem document. Validation failures list every
// field problem in Errors, never just the first.
type Problem struct {
	Type   string       `json:"type,omitempty"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// Referrers names the objects that block a delete (409).
	Referrers []string `json:"referrers,omitempty"`
}

func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (HTTP %d)", p.Title, p.Status)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for _, e := range p.Errors {
		b.WriteString("; " + e.String())
	}
	return b.String()
}

// Severity of a FieldError. Warnings never block a write.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// FieldError is one problem with one field. Field is an attribute path in
// the provider's notation: `members["db-3"].priority`, `targets["dc1"]`,
// `schedule[0].end`. Detail says what to change.
type FieldError struct {
	Field    string `json:"field"`
	Detail   string `json:"detail"`
	Severity string `json:"severity,omitempty"`
	// Reads lists the other fields the rule read to reach this verdict
	// (Field itself is always read). Paths may use [*] for "every element":
	// `targets[*].burst_only`. The provider drops a problem at plan time
	// while Field or one of Reads is not known yet; failoverd judges it
	// again at apply. Not part of the wire format.
	Reads []string `json:"-"`
}

// Read declares fields the rule read besides Field, and returns e so a
// call can follow Add: `ps.Add("fallback", ...).Read("when_all_down")`.
func (e *FieldError) Read(fields ...string) *FieldError {
	e.Reads = append(e.Reads, fields...)
	return e
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// Problems collects field errors in the order they were found.
type Problems []FieldError

// Add records an error on field. The result declares what else the rule
// read (see FieldError.Read); it is valid until the next Add or Warn.
func (p *Problems) Add(field, format string, args ...any) *FieldError {
	*p = append(*p, FieldError{Field: field, Detail: fmt.Sprintf(format, args...), Severity: SeverityError})
	return &(*p)[len(*p)-1]
}

// Warn records a warning on field, like Add.
func (p *Problems) Warn(field, format string, args ...any) *FieldError {
	*p = append(*p, FieldError{Field: field, Detail: fmt.Sprintf(format, args...), Severity: SeverityWarning})
	return &(*p)[len(*p)-1]
}

// Read declares fields read by every problem in p (see FieldError.Read),
// for a group of rules that all depend on one switch such as a check's type.
func (p Problems) Read(fields ...string) {
	for i := range p {
		p[i].Read(fields...)
	}
}

// Errors returns only the blocking problems.
func (p Problems) Errors() Problems {
	var out Problems
	for _, e := range p {
		if e.Severity != SeverityWarning {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns only the non-blocking problems.
func (p Problems) Warnings() Problems {
	var out Problems
	for _, e := range p {
		if e.Severity == SeverityWarning {
			out = append(out, e)
		}
	}
	return out
}

// MapKey renders a map element of a path: MapKey("members", "db-3") is
// `members["db-3"]`.
func MapKey(attr, key string) string {
	return attr + "[" + strconv.Quote(key) + "]"
}

// Index renders a list element of a path: Index("schedule", 0) is `schedule[0]`.
func Index(attr string, i int) string {
	return attr + "[" + strconv.Itoa(i) + "]"
}

// PathStep is one step of a parsed field path: an attribute name, a map
// key or a list index (exactly one is set; Index is -1 unless a list index).
type PathStep struct {
	Name  string
	Key   *string
	Index int
}

var stepRE = regexp.MustCompile(`^(?:\.?([a-z_][a-z0-9_]*)|\[("(?:[^"\\]|\\.)*")\]|\[([0-9]+)\])`)

// ParsePath splits a field path produced by this package into steps so the
// provider can attach diagnostics to the attribute at fault.
func ParsePath(field string) ([]PathStep, error) {
	var steps []PathStep
	rest := field
	for rest != "" {
		m := stepRE.FindStringSubmatch(rest)
		if m == nil {
			return nil, fmt.Errorf("field path %q: cannot parse %q", field, rest)
		}
		switch {
		case m[1] != "":
			steps = append(steps, PathStep{Name: m[1], Index: -1})
		case m[2] != "":
			k, err := strconv.Unquote(m[2])
			if err != nil {
				return nil, fmt.Errorf("field path %q: %w", field, err)
			}
			steps = append(steps, PathStep{Key: &k, Index: -1})
		default:
			i, err := strconv.Atoi(m[3])
			if err != nil {
				return nil, fmt.Errorf("field path %q: %w", field, err)
			}
			steps = append(steps, PathStep{Index: i})
		}
		rest = rest[len(m[0]):]
	}
	return steps, nil
}

// SortedKeys returns a map's keys in order, so that results never depend on
// Go's map iteration order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
