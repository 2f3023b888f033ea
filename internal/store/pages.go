package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
)

// checkPages validates the page graph of a bbolt file by reading it with
// pread, before bbolt maps it. bbolt trusts its pages: a branch page that
// points at itself sends a cursor into an endless descent (memory grows
// until the process is killed), and a page past the end of the file faults
// on the map. Neither can be recovered from once inside bbolt, so the
// structure is proven sound first: every page reachable from the meta page
// is inside the file, is a branch or leaf page that names itself, holds
// its elements within its bounds, and is reached exactly once; the
// freelist page is inside the file, and no page it lists is in use or
// listed twice.
//
// The layout read here is bbolt's file format version 2 (bbolt/internal/
// common, in the byte order of the machine that wrote it), stable since
// boltdb; bbolt's own meta checksum and version check guard the rest.
func checkPages(f io.ReaderAt, size int64) error {
	m, err := readMeta(f, size)
	if err != nil {
		return err
	}
	ps := int64(m.pageSize)
	if m.hwm > uint64(size)/uint64(ps) {
		return fmt.Errorf("the file is cut short: it is %d bytes, its pages need %d", size, m.hwm*uint64(ps))
	}
	v := &pageVisitor{f: f, ps: ps, hwm: m.hwm, seen: make([]uint64, (m.hwm+63)/64)}
	v.seen[0] |= 3 // the meta pages
	var free []uint64
	if m.freelist != noFreelist {
		if free, err = v.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := v.bucket(m.root); err != nil {
		return err
	}
	// A page both in use and free would be handed out by the next commit
	// and overwritten under the data still in it.
	for _, id := range free {
		if v.seen[id/64]&(1<<(id%64)) != 0 {
			return fmt.Errorf("page %d is in use and also listed as free", id)
		}
		v.seen[id/64] |= 1 << (id % 64)
	}
	return nil
}

// bbolt's on-disk layout.
const (
	boltMagic         = 0xED0CDAED
	boltVersion       = 2
	pageHeaderSize    = 16 // id u64, flags u16, count u16, overflow u32
	elementSize       = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	bucketHeaderSize  = 16 // root pgid u64, sequence u64
	metaSize          = 64 // magic, version, pageSize, flags u32; root bucket; freelist, pgid, txid, checksum u64
	metaChecksumStart = 56
	branchPageFlag    = 0x01
	leafPageFlag      = 0x02
	freelistPageFlag  = 0x10
	bucketLeafFlag    = 0x01
	noFreelist        = ^uint64(0)
)

var ne = binary.NativeEndian

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64
	txid     uint64
}

// readMeta returns the meta page bbolt would use: the valid one with the
// higher transaction id.
func readMeta(f io.ReaderAt, size int64) (boltMeta, error) {
	var best boltMeta
	found := false
	// Meta 0 is at offset 0; meta 1 one page further, and the page size is
	// known from meta 0 or, if it is damaged, tried at bbolt's default.
	offsets := []int64{0}
	if m, ok := parseMeta(f, 0); ok {
		offsets = append(offsets, int64(m.pageSize))
	} else {
		offsets = append(offsets, 4096)
	}
	for _, off := range offsets {
		if off+pageHeaderSize+metaSize > size {
			continue
		}
		if m, ok := parseMeta(f, off); ok && (!found || m.txid > best.txid) {
			best, found = m, true
		}
	}
	if !found {
		return boltMeta{}, fmt.Errorf("not a readable bolt database: no valid meta page")
	}
	if best.pageSize < 1024 || best.pageSize > 1<<20 || best.pageSize&(best.pageSize-1) != 0 {
		return boltMeta{}, fmt.Errorf("not a readable bolt database: page size %d", best.pageSize)
	}
	return best, nil
}

func parseMeta(f io.ReaderAt, off int64) (boltMeta, bool) {
	buf := make([]byte, metaSize)
	if _, err := f.ReadAt(buf, off+pageHeaderSize); err != nil {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(buf[:metaChecksumStart])
	if ne.Uint32(buf[0:]) != boltMagic || ne.Uint32(buf[4:]) != boltVersion || ne.Uint64(buf[56:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{
		pageSize: ne.Uint32(buf[8:]),
		root:     ne.Uint64(buf[16:]),
		freelist: ne.Uint64(buf[32:]),
		hwm:      ne.Uint64(buf[40:]),
		txid:     ne.Uint64(buf[48:]),
	}, true
}

type pageVisitor struct {
	f    io.ReaderAt
	ps   int64
	hwm  uint64
	seen []uint64 // bitmap of pages reached
	buf  []byte   // reused: a page is done with before the next is read
}

// page reads page id with its overflow pages, after checking that it is
// inside the file and has not been reached before. The result is valid
// until the next call.
func (v *pageVisitor) page(id uint64, from string) ([]byte, error) {
	if id < 2 || id >= v.hwm {
		return nil, fmt.Errorf("%s points at page %d, outside the file's pages 2..%d", from, id, v.hwm-1)
	}
	if int64(cap(v.buf)) < v.ps {
		v.buf = make([]byte, v.ps)
	}
	buf := v.buf[:v.ps]
	if _, err := v.f.ReadAt(buf, int64(id)*v.ps); err != nil {
		return nil, fmt.Errorf("reading page %d: %v", id, err)
	}
	if got := ne.Uint64(buf); got != id {
		return nil, fmt.Errorf("page %d identifies itself as page %d", id, got)
	}
	overflow := uint64(ne.Uint32(buf[12:]))
	if overflow >= v.hwm-id {
		return nil, fmt.Errorf("page %d runs past the file's last page %d", id, v.hwm-1)
	}
	for i := id; i <= id+overflow; i++ {
		if v.seen[i/64]&(1<<(i%64)) != 0 {
			return nil, fmt.Errorf("page %d is reached twice (%s): the page tree has a loop or a shared page", i, from)
		}
		v.seen[i/64] |= 1 << (i % 64)
	}
	if overflow > 0 {
		n := int64(overflow+1) * v.ps
		if int64(cap(v.buf)) < n {
			v.buf = append(v.buf[:v.ps], make([]byte, n-v.ps)...)
		}
		buf = v.buf[:n]
		if _, err := v.f.ReadAt(buf[v.ps:], int64(id+1)*v.ps); err != nil {
			return nil, fmt.Errorf("reading page %d: %v", id, err)
		}
	}
	return buf, nil
}

// freelist checks the freelist page and returns the free page ids.
func (v *pageVisitor) freelist(id uint64) ([]uint64, error) {
	p, err := v.page(id, "the meta page's freelist")
	if err != nil {
		return nil, err
	}
	if flags := ne.Uint16(p[8:]); flags != freelistPageFlag {
		return nil, fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	start, count := uint64(pageHeaderSize), uint64(ne.Uint16(p[10:]))
	if count == 0xFFFF { // the real count is the first element
		if len(p) < pageHeaderSize+8 {
			return nil, fmt.Errorf("freelist page %d is too short for its count", id)
		}
		count, start = ne.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if count > uint64(len(p)) || start+count*8 > uint64(len(p)) {
		return nil, fmt.Errorf("freelist page %d claims %d free pages, more than it holds", id, count)
	}
	free := make([]uint64, count)
	for i := range free {
		free[i] = ne.Uint64(p[start+uint64(i)*8:])
		if free[i] < 2 || free[i] >= v.hwm {
			return nil, fmt.Errorf("freelist page %d lists page %d, outside the file's pages", id, free[i])
		}
	}
	return free, nil
}

// bucket walks the tree of a bucket whose header (root page id) is root,
// or the inline page after the header when root is 0.
func (v *pageVisitor) bucket(root uint64) error {
	stack := []uint64{root}
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		p, err := v.page(id, fmt.Sprintf("a branch or bucket (page tree at %d)", root))
		if err != nil {
			return err
		}
		children, err := v.elements(id, p)
		if err != nil {
			return err
		}
		stack = append(stack, children...)
	}
	return nil
}

// elements checks the elements of page p (id 0 for an inline page) and
// returns the pages it points to: children of a branch, roots of the
// nested buckets of a leaf.
func (v *pageVisitor) elements(id uint64, p []byte) ([]uint64, error) {
	if len(p) < pageHeaderSize {
		return nil, fmt.Errorf("inline page is %d bytes, shorter than a page header", len(p))
	}
	flags, count := ne.Uint16(p[8:]), int(ne.Uint16(p[10:]))
	if flags != branchPageFlag && flags != leafPageFlag {
		return nil, fmt.Errorf("page %d has type %#x, not a branch or leaf", id, flags)
	}
	if id == 0 && flags != leafPageFlag {
		return nil, fmt.Errorf("an inline bucket page has type %#x, not leaf", flags)
	}
	if pageHeaderSize+count*elementSize > len(p) {
		return nil, fmt.Errorf("page %d claims %d elements, more than it holds", id, count)
	}
	var out []uint64
	for i := 0; i < count; i++ {
		e := pageHeaderSize + i*elementSize
		if flags == branchPageFlag {
			pos, ksize := uint64(ne.Uint32(p[e:])), uint64(ne.Uint32(p[e+4:]))
			if uint64(e)+pos+ksize > uint64(len(p)) {
				return nil, fmt.Errorf("page %d: key %d runs past the page", id, i)
			}
			out = append(out, ne.Uint64(p[e+8:]))
			continue
		}
		eflags, pos, ksize, vsize := ne.Uint32(p[e:]), uint64(ne.Uint32(p[e+4:])), uint64(ne.Uint32(p[e+8:])), uint64(ne.Uint32(p[e+12:]))
		end := uint64(e) + pos + ksize + vsize
		if end > uint64(len(p)) {
			return nil, fmt.Errorf("page %d: record %d runs past the page", id, i)
		}
		if eflags&bucketLeafFlag == 0 {
			continue
		}
		val := p[uint64(e)+pos+ksize : end]
		if len(val) < bucketHeaderSize {
			return nil, fmt.Errorf("page %d: bucket %d has a %d-byte header", id, i, len(val))
		}
		if root := ne.Uint64(val); root != 0 {
			out = append(out, root)
			continue
		}
		nested, err := v.elements(0, val[bucketHeaderSize:])
		if err != nil {
			return nil, err
		}
		out = append(out, nested...)
	}
	return out, nil
}
