package topology

import (
	"reflect"
	"testing"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

func names(ns ...string) map[string]api.Member {
	out := map[string]api.Member{}
	for _, n := range ns {
		out[n] = api.Member{Host: n + ".example.org:27017", Site: "a"}
	}
	return out
}

func TestAssignMemberIDs(t *testing.T) {
	tests := []struct {
		name    string
		prev    map[string]int
		members map[string]api.Member
		want    map[string]int
	}{
		{"first apply: name order", nil, names("c", "a", "b"),
			map[string]int{"a": 0, "b": 1, "c": 2}},
		{"reorder and edit keep ids", map[string]int{"c": 0, "a": 1, "b": 2},
			map[string]api.Member{"b": {Host: "new.example.org:27017", Site: "z"}, "a": {}, "c": {Arbiter: true}},
			map[string]int{"c": 0, "a": 1, "b": 2}},
		{"new member takes the smallest free id", map[string]int{"a": 0, "c": 2},
			names("a", "c", "b", "d"),
			map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}},
		{"removed member frees its id", map[string]int{"a": 0, "b": 1, "c": 2},
			names("a", "c"),
			map[string]int{"a": 0, "c": 2}},
		{"freed id is reused, new members in name order", map[string]int{"a": 0, "b": 1, "c": 2, "d": 3},
			names("a", "d", "z", "y"),
			map[string]int{"a": 0, "d": 3, "y": 1, "z": 2}},
		{"ids beyond the free ones are kept", map[string]int{"a": 7},
			names("a", "b"),
			map[string]int{"a": 7, "b": 0}},
		{"duplicate ids in a corrupted record: first name keeps it", map[string]int{"a": 1, "b": 1},
			names("a", "b"),
			map[string]int{"a": 1, "b": 0}},
		{"negative id is reassigned", map[string]int{"a": -1, "b": 0},
			names("a", "b"),
			map[string]int{"a": 1, "b": 0}},
		{"no members", map[string]int{"a": 0}, nil, map[string]int{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AssignMemberIDs(tc.prev, tc.members)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("AssignMemberIDs = %v, want %v", got, tc.want)
			}
			checkIDInvariants(t, tc.prev, tc.members, got)
		})
	}
}

// An id stays with its member across a sequence of applies.
func TestAssignMemberIDsHistory(t *testing.T) {
	ids := AssignMemberIDs(nil, names("db-1", "db-2", "db-3"))
	ids = AssignMemberIDs(ids, names("db-3", "db-1")) // db-2 removed
	ids = AssignMemberIDs(ids, names("db-1", "db-3", "db-0", "db-4"))
	want := map[string]int{"db-1": 0, "db-3": 2, "db-0": 1, "db-4": 3}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %v, want %v", ids, want)
	}
}

func checkIDInvariants(t *testing.T, prev map[string]int, members map[string]api.Member, ids map[string]int) {
	t.Helper()
	if len(ids) != len(members) {
		t.Fatalf("%d ids for %d members", len(ids), len(members))
	}
	seen := map[int]string{}
	for _, n := range api.SortedKeys(ids) {
		id := ids[n]
		if _, ok := members[n]; !ok {
			t.Fatalf("id for unknown member %q", n)
		}
		if id < 0 {
			t.Fatalf("member %q: negative id %d", n, id)
		}
		if other, dup := seen[id]; dup {
			t.Fatalf("members %q and %q share id %d", other, n, id)
		}
		seen[id] = n
	}
	// A member keeps a valid, uncontested previous id.
	claims := map[int]int{}
	for n, id := range prev {
		if _, ok := members[n]; ok {
			claims[id]++
		}
	}
	for n, id := range prev {
		if _, ok := members[n]; ok && id >= 0 && claims[id] == 1 && ids[n] != id {
			t.Fatalf("member %q lost its id %d (now %d)", n, id, ids[n])
		}
	}
}

func FuzzAssignMemberIDs(f *testing.F) {
	f.Add([]byte{0, 1, 2}, []byte{1, 2, 3, 4})
	f.Add([]byte{5, 5, 5}, []byte{5})
	f.Add([]byte{}, []byte{0, 0, 255})
	f.Fuzz(func(t *testing.T, prevBytes, memberBytes []byte) {
		// prev: pairs (name, id); members: one name per byte.
		prev := map[string]int{}
		for i := 0; i+1 < len(prevBytes); i += 2 {
			prev[string(rune('a'+prevBytes[i]%26))] = int(int8(prevBytes[i+1]))
		}
		members := map[string]api.Member{}
		for _, b := range memberBytes {
			members[string(rune('a'+b%26))] = api.Member{}
		}
		ids := AssignMemberIDs(prev, members)
		checkIDInvariants(t, prev, members, ids)
		// Smallest free ids: every id of a new member is the least not
		// used by a kept one or an earlier new one, so the largest id is
		// bounded by the member count or a kept id.
		maxKept := -1
		for n, id := range ids {
			if p, ok := prev[n]; ok && p == id {
				maxKept = max(maxKept, id)
			}
		}
		for n, id := range ids {
			if p, ok := prev[n]; (!ok || p != id) && id >= len(members) && id > maxKept {
				t.Fatalf("new member %q got id %d with %d members", n, id, len(members))
			}
		}
		if again := AssignMemberIDs(ids, members); !reflect.DeepEqual(again, ids) {
			t.Fatalf("not idempotent: %v then %v", ids, again)
		}
	})
}
