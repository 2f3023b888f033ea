package client

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// This file is the one place that reads failoverd endpoints, so the CLI's
// --endpoint and FAILOVER_ENDPOINT, the provider's endpoint / endpoints and
// Config all accept and refuse the same things with the same words.

const endpointFix = `use an http:// or https:// URL such as "http://127.0.0.1:8080" (set FAILOVER_ENDPOINT or the provider's endpoint / endpoints)`

// ParseEndpoint validates one failoverd base URL and returns it
// normalised (no trailing slash). A path prefix is kept, for a failoverd
// behind a reverse proxy.
func ParseEndpoint(s string) (string, error) {
	u, err := parseEndpoint(s)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// EndpointError is a bad entry of an endpoint list. Index counts from 0;
// the provider puts the error on endpoints[Index].
type EndpointError struct {
	Index int
	Of    int // entries in the list
	Err   error
}

func (e *EndpointError) Error() string {
	if e.Of == 1 {
		return e.Err.Error()
	}
	return fmt.Sprintf("endpoint %d of %d: %v", e.Index+1, e.Of, e.Err)
}

func (e *EndpointError) Unwrap() error { return e.Err }

// ParseEndpoints validates a list of failoverd nodes, in the order they are
// to be tried, and returns them normalised. A node listed twice is refused:
// it is a typo for another node far more often than a wish to ask the same
// node twice. The error is an *EndpointError naming the entry.
func ParseEndpoints(list []string) ([]string, error) {
	if len(list) == 0 {
		return nil, errors.New("the endpoint list is empty: name at least one failoverd node, e.g. \"http://127.0.0.1:8080\"")
	}
	out := make([]string, 0, len(list))
	first := make(map[string]int, len(list))
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			return nil, &EndpointError{Index: i, Of: len(list), Err: errors.New("it is empty: remove it, or the extra comma")}
		}
		u, err := ParseEndpoint(s)
		if err != nil {
			return nil, &EndpointError{Index: i, Of: len(list), Err: err}
		}
		if j, dup := first[u]; dup {
			return nil, &EndpointError{Index: i, Of: len(list), Err: fmt.Errorf("%s is already endpoint %d: list each failoverd node once", u, j+1)}
		}
		first[u] = i
		out = append(out, u)
	}
	return out, nil
}

// SplitEndpoints reads a comma-separated endpoint list, as FAILOVER_ENDPOINT
// and --endpoint hold it ("http://10.0.1.5:8080, http://10.0.2.5:8080").
// Blanks around entries are ignored.
func SplitEndpoints(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the endpoint list is empty: name at least one failoverd node, e.g. \"http://127.0.0.1:8080\"")
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return ParseEndpoints(parts)
}

// parseEndpoint accepts an http or https base URL, optionally with a path
// prefix. Its errors never repeat a password given in the URL.
func parseEndpoint(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("the failoverd endpoint is empty: %s", endpointFix)
	}
	if strings.Contains(s, ",") {
		return nil, fmt.Errorf("invalid failoverd endpoint %q: one URL only; to name several failoverd nodes, separate them with commas in FAILOVER_ENDPOINT or --endpoint, or list them in the provider's endpoints", redactUserinfo(s))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		shown := redactUserinfo(s)
		if !strings.Contains(s, "://") {
			return nil, fmt.Errorf("invalid failoverd endpoint %q: %s; did you mean %q?", shown, endpointFix, "http://"+shown)
		}
		return nil, fmt.Errorf("invalid failoverd endpoint %q: %s", shown, endpointFix)
	}
	if u.User != nil {
		return nil, fmt.Errorf("invalid failoverd endpoint %q: it must not contain credentials; put the token in FAILOVER_TOKEN or the provider's token instead", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, fmt.Errorf("invalid failoverd endpoint %q: remove the query and fragment; %s", s, endpointFix)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// redactUserinfo hides whatever precedes an '@' in a URL's authority, for
// the messages about URLs that do not even parse (url.Redacted needs a
// parsed URL).
func redactUserinfo(s string) string {
	rest, authority := s, s
	prefix := ""
	if i := strings.Index(s, "://"); i >= 0 {
		prefix, rest = s[:i+3], s[i+3:]
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority = rest[:end]
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	return prefix + "xxxxx" + rest[at:]
}
