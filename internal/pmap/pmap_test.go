package pmap

import (
	"encoding/binary"
	"fmt"
	"maps"
	"testing"
)

// check asserts that m holds exactly want.
func check(t *testing.T, m Map[int], want map[string]int) {
	t.Helper()
	if m.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(want))
	}
	for k, v := range want {
		if got, ok := m.Get(k); !ok || got != v {
			t.Fatalf("Get(%q) = %d, %t; want %d", k, got, ok, v)
		}
		if got, ok := m.GetBytes([]byte(k)); !ok || got != v {
			t.Fatalf("GetBytes(%q) = %d, %t; want %d", k, got, ok, v)
		}
	}
	seen := map[string]int{}
	m.Range(func(k string, v int) bool {
		if _, dup := seen[k]; dup {
			t.Fatalf("Range visits %q twice", k)
		}
		seen[k] = v
		return true
	})
	if !maps.Equal(seen, want) {
		t.Fatalf("Range saw %d keys, want %d", len(seen), len(want))
	}
}

func TestSetGetDelete(t *testing.T) {
	tests := []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"one", 1},
		{"one level", 20},
		{"a few levels", 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Map[int]
			want := map[string]int{}
			for i := range tc.n {
				m = m.Set(fmt.Sprintf("p%d", i), i)
				want[fmt.Sprintf("p%d", i)] = i
			}
			check(t, m, want)
			if _, ok := m.Get("absent"); ok {
				t.Fatal("Get of an absent key found it")
			}
			// Versions are independent: overwrite and delete in a new one.
			old, oldWant := m, maps.Clone(want)
			for i := 0; i < tc.n; i += 2 {
				m = m.Set(fmt.Sprintf("p%d", i), -i)
				want[fmt.Sprintf("p%d", i)] = -i
			}
			for i := 1; i < tc.n; i += 4 {
				m = m.Delete(fmt.Sprintf("p%d", i))
				delete(want, fmt.Sprintf("p%d", i))
			}
			m = m.Delete("absent")
			check(t, m, want)
			check(t, old, oldWant)
			for k := range want {
				m = m.Delete(k)
			}
			check(t, m, map[string]int{})
			if m.root != nil {
				t.Fatal("a map emptied by Delete keeps nodes")
			}
		})
	}
}

// TestCollisions drives the trie with chosen hashes: keys sharing every
// level's slot down to the collision list, and keys with equal hashes.
func TestCollisions(t *testing.T) {
	const same = 0x0123456789abcdef
	tests := []struct {
		name   string
		hashes []uint64
	}{
		{"equal hashes", []uint64{same, same, same}},
		{"differ in the last 4 bits only", []uint64{same, same ^ 1<<63, same ^ 1<<60}},
		{"differ in the first slot", []uint64{same, same ^ 1, same ^ 1<<5}},
		{"mixed", []uint64{same, same, same ^ 1<<63, same ^ 1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var root *node[int]
			for i, h := range tc.hashes {
				var added bool
				root, added = set(root, 0, entry[int]{hash: h, key: fmt.Sprint(i), val: i})
				if !added {
					t.Fatalf("key %d not added", i)
				}
			}
			m := Map[int]{root: root, n: len(tc.hashes)}
			for i, h := range tc.hashes {
				if v, ok := m.get(h, fmt.Sprint(i)); !ok || v != i {
					t.Fatalf("get %d = %d, %t", i, v, ok)
				}
				if _, ok := m.get(h, "x"); ok {
					t.Fatal("an absent key with a colliding hash was found")
				}
			}
			root, added := set(root, 0, entry[int]{hash: tc.hashes[0], key: "0", val: 100})
			if added {
				t.Fatal("overwriting a colliding key added it")
			}
			for i, h := range tc.hashes {
				var removed bool
				root, removed = del(root, 0, h, fmt.Sprint(i))
				if !removed {
					t.Fatalf("key %d not removed", i)
				}
				if _, removed = del(root, 0, h, fmt.Sprint(i)); removed {
					t.Fatalf("key %d removed twice", i)
				}
				for j := i + 1; j < len(tc.hashes); j++ {
					if v, ok := (Map[int]{root: root}).get(tc.hashes[j], fmt.Sprint(j)); !ok || v != j {
						t.Fatalf("after deleting %d: get %d = %d, %t", i, j, v, ok)
					}
				}
			}
			if root != nil {
				t.Fatal("emptied trie keeps nodes")
			}
		})
	}
}

// FuzzMap replays a program of sets and deletes against a Go map, keeping
// every version: each must still read as it did when it was made.
func FuzzMap(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 0x81, 0x82, 0x83})
	f.Add([]byte{7, 7, 7, 0x87, 0x87, 7})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 2000 {
			return
		}
		var m Map[int]
		want := map[string]int{}
		var versions []Map[int]
		var wants []map[string]int
		for i, op := range prog {
			key := fmt.Sprint(op & 0x3f)
			if op&0x80 != 0 {
				m = m.Delete(key)
				delete(want, key)
			} else {
				m = m.Set(key, i)
				want[key] = i
			}
			versions = append(versions, m)
			wants = append(wants, maps.Clone(want))
		}
		for i := range versions {
			check(t, versions[i], wants[i])
		}
	})
}

func BenchmarkGet(b *testing.B) {
	var m Map[int]
	keys := make([][]byte, 10000)
	for i := range keys {
		keys[i] = binary.AppendUvarint([]byte("policy-"), uint64(i))
		m = m.Set(string(keys[i]), i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := m.GetBytes(keys[i%len(keys)]); !ok {
			b.Fatal("missing")
		}
	}
}

func BenchmarkSet(b *testing.B) {
	var m Map[int]
	for i := range 10000 {
		m = m.Set(fmt.Sprintf("policy-%d", i), i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m = m.Set("policy-42", i)
	}
}
