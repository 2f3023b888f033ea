package api

import (
	"fmt"
	"regexp"
)

// NamePattern is the identity rule of every object (and of sites, target
// and member keys): a DNS label, lower case.
const NamePattern = `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`

var nameRE = regexp.MustCompile(NamePattern)

// ValidName reports whether s is a valid object name.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// CheckName adds a problem on field when s is not a valid name.
func CheckName(p *Problems, field, s string) {
	switch {
	case s == "":
		p.Add(field, "is required: set a name of lower-case letters, digits and '-' (1–63 characters), e.g. \"web-primary\"")
	case !ValidName(s):
		p.Add(field, "%q is not a valid name: use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit (%s)", s, NamePattern)
	}
}

// ObjectPath is the API path of one object.
func ObjectPath(kind Kind, name string) string {
	return fmt.Sprintf("/v1/%s/%s", kind, name)
}
