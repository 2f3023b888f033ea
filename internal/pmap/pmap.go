// Package pmap is a persistent (immutable) hash map from strings to
// values: Set and Delete return a new Map and leave the old one as it was,
// sharing every node but the O(log₃₂ n) ones on the changed key's path.
// The engine publishes its DNS and /burst answers in one, so a decision
// change copies a handful of small nodes instead of every policy, and a
// reader holding an older Map keeps a consistent view without a lock.
//
// It is a hash array mapped trie (Bagwell, "Ideal Hash Trees", 2001):
// each level consumes 5 bits of a 64-bit hash; a node holds a 32-bit
// bitmap of the slots in use and only those slots, so a level costs one
// popcount. Keys whose 64-bit hashes collide entirely share a list node
// below the last level.
package pmap

import (
	"hash/maphash"
	"math/bits"
	"unsafe"
)

const (
	bitsPerLevel = 5
	fanout       = 1 << bitsPerLevel
	// maxShift is the shift of the collision level: past the hash's 64 bits.
	maxShift = 65
)

// seed is shared by every Map of the process: versions of one map must
// hash alike, and nothing is gained by telling unrelated maps apart.
var seed = maphash.MakeSeed()

// Map is an immutable map. The zero Map is empty and ready to use; Maps
// are values, cheap to copy, and safe for concurrent readers.
type Map[V any] struct {
	root *node[V]
	n    int
}

// node is one trie node: entries are the slots present in bitmap, in slot
// order. At maxShift a node is a collision list and bitmap is unused.
type node[V any] struct {
	bitmap  uint32
	entries []entry[V]
}

// entry is a subtree (child non-nil) or a key and its value.
type entry[V any] struct {
	child *node[V]
	hash  uint64
	key   string
	val   V
}

// Len is the number of keys.
func (m Map[V]) Len() int { return m.n }

// Get returns the value of key.
func (m Map[V]) Get(key string) (V, bool) {
	return m.get(maphash.String(seed, key), key)
}

// GetBytes is Get with the key as bytes, without converting it to a
// string (the DNS server looks names up straight from the packet).
func (m Map[V]) GetBytes(key []byte) (V, bool) {
	// get only compares the string and lets go of it before returning, so
	// it may alias key's bytes.
	return m.get(maphash.Bytes(seed, key), unsafe.String(unsafe.SliceData(key), len(key)))
}

func (m Map[V]) get(h uint64, key string) (V, bool) {
	n := m.root
	for shift := uint(0); n != nil; shift += bitsPerLevel {
		if shift >= maxShift {
			for i := range n.entries {
				if e := &n.entries[i]; e.key == key {
					return e.val, true
				}
			}
			break
		}
		bit := uint32(1) << ((h >> shift) & (fanout - 1))
		if n.bitmap&bit == 0 {
			break
		}
		e := &n.entries[bits.OnesCount32(n.bitmap&(bit-1))]
		if e.child != nil {
			n = e.child
			continue
		}
		if e.hash == h && e.key == key {
			return e.val, true
		}
		break
	}
	var zero V
	return zero, false
}

// Set returns a Map in which key holds val.
func (m Map[V]) Set(key string, val V) Map[V] {
	root, added := set(m.root, 0, entry[V]{hash: maphash.String(seed, key), key: key, val: val})
	m.root = root
	if added {
		m.n++
	}
	return m
}

// set returns n (nil: empty) with leaf stored, copying the nodes on the
// way, and whether the key is new.
func set[V any](n *node[V], shift uint, leaf entry[V]) (*node[V], bool) {
	if n == nil {
		if shift >= maxShift {
			return &node[V]{entries: []entry[V]{leaf}}, true
		}
		return &node[V]{bitmap: slotBit(leaf.hash, shift), entries: []entry[V]{leaf}}, true
	}
	if shift >= maxShift {
		for i := range n.entries {
			if n.entries[i].key == leaf.key {
				c := n.clone(0)
				c.entries[i] = leaf
				return c, false
			}
		}
		c := n.clone(1)
		c.entries = append(c.entries, leaf)
		return c, true
	}
	bit := slotBit(leaf.hash, shift)
	i := bits.OnesCount32(n.bitmap & (bit - 1))
	if n.bitmap&bit == 0 {
		c := &node[V]{bitmap: n.bitmap | bit, entries: make([]entry[V], len(n.entries)+1)}
		copy(c.entries, n.entries[:i])
		c.entries[i] = leaf
		copy(c.entries[i+1:], n.entries[i:])
		return c, true
	}
	e := n.entries[i]
	c := n.clone(0)
	switch {
	case e.child != nil:
		child, added := set(e.child, shift+bitsPerLevel, leaf)
		c.entries[i] = entry[V]{child: child}
		return c, added
	case e.key == leaf.key:
		c.entries[i] = leaf
		return c, false
	}
	// Two keys in one slot: push both one level down.
	child, _ := set(nil, shift+bitsPerLevel, e)
	child, _ = set(child, shift+bitsPerLevel, leaf)
	c.entries[i] = entry[V]{child: child}
	return c, true
}

// Delete returns a Map without key.
func (m Map[V]) Delete(key string) Map[V] {
	root, removed := del(m.root, 0, maphash.String(seed, key), key)
	if !removed {
		return m
	}
	m.root = root
	m.n--
	return m
}

// del returns n without key (nil when n becomes empty). A node left with a
// single key and no subtree is replaced by that key in its parent, so the
// trie stays as shallow as a fresh one would be.
func del[V any](n *node[V], shift uint, h uint64, key string) (*node[V], bool) {
	if n == nil {
		return nil, false
	}
	var i int
	if shift >= maxShift {
		i = -1
		for j := range n.entries {
			if n.entries[j].key == key {
				i = j
			}
		}
		if i < 0 {
			return n, false
		}
	} else {
		bit := slotBit(h, shift)
		if n.bitmap&bit == 0 {
			return n, false
		}
		i = bits.OnesCount32(n.bitmap & (bit - 1))
		if e := n.entries[i]; e.child != nil {
			child, removed := del(e.child, shift+bitsPerLevel, h, key)
			if !removed {
				return n, false
			}
			c := n.clone(0)
			switch {
			case child == nil:
				return c.remove(i, bit), true
			case len(child.entries) == 1 && child.entries[0].child == nil:
				c.entries[i] = child.entries[0] // collapse
			default:
				c.entries[i] = entry[V]{child: child}
			}
			return c, true
		} else if e.hash != h || e.key != key {
			return n, false
		}
	}
	if len(n.entries) == 1 {
		return nil, true
	}
	var bit uint32
	if shift < maxShift {
		bit = slotBit(h, shift)
	}
	return n.clone(0).remove(i, bit), true
}

// Range calls fn for every key and value, in no particular order, until
// fn returns false.
func (m Map[V]) Range(fn func(key string, val V) bool) {
	m.root.walk(fn)
}

func (n *node[V]) walk(fn func(string, V) bool) bool {
	if n == nil {
		return true
	}
	for i := range n.entries {
		e := &n.entries[i]
		if e.child != nil {
			if !e.child.walk(fn) {
				return false
			}
		} else if !fn(e.key, e.val) {
			return false
		}
	}
	return true
}

func slotBit(h uint64, shift uint) uint32 { return 1 << ((h >> shift) & (fanout - 1)) }

// clone copies n with room for extra more entries.
func (n *node[V]) clone(extra int) *node[V] {
	c := &node[V]{bitmap: n.bitmap, entries: make([]entry[V], len(n.entries), len(n.entries)+extra)}
	copy(c.entries, n.entries)
	return c
}

// remove drops entry i (slot bit) from n, which the caller owns.
func (n *node[V]) remove(i int, bit uint32) *node[V] {
	n.entries = append(n.entries[:i], n.entries[i+1:]...)
	n.bitmap &^= bit
	return n
}
