package index

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Large values (a space's encoder checkpoint, its graph) are stored as
// blobs: a bucket holding a header under keyBlobHeader and the content in
// chunks of at most blobChunkSize bytes under 4-byte big-endian chunk
// numbers. bbolt copes badly with values of hundreds of megabytes (one
// allocation of the whole value per write); chunks of a few MiB keep
// writes and reads streaming.
const (
	blobChunkSize = 4 << 20
	blobVersion   = 1
)

var (
	keyBlobHeader = []byte("header")
	crcTable      = crc32.MakeTable(crc32.Castagnoli)
)

// blobHeader describes a stored blob.
//
// Layout (v1): version (1 byte), length (8), CRC-32C of the content (4),
// number of chunks (4), then the caller's extra bytes.
type blobHeader struct {
	length uint64
	crc    uint32
	chunks uint32
	extra  []byte
}

func (h blobHeader) encode() []byte {
	b := []byte{blobVersion}
	b = binary.BigEndian.AppendUint64(b, h.length)
	b = binary.BigEndian.AppendUint32(b, h.crc)
	b = binary.BigEndian.AppendUint32(b, h.chunks)
	return append(b, h.extra...)
}

func decodeBlobHeader(b []byte) (blobHeader, error) {
	if len(b) < 17 {
		return blobHeader{}, fmt.Errorf("%w: blob header of %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != blobVersion {
		return blobHeader{}, fmt.Errorf("%w: blob version %d, this build reads %d", ErrCorrupt, b[0], blobVersion)
	}
	return blobHeader{
		length: binary.BigEndian.Uint64(b[1:]),
		crc:    binary.BigEndian.Uint32(b[9:]),
		chunks: binary.BigEndian.Uint32(b[13:]),
		extra:  append([]byte(nil), b[17:]...),
	}, nil
}

// blobWriter writes a blob's chunks into a bucket as they fill. Close
// writes the header. Each chunk is a new allocation because bbolt keeps a
// reference to a value until the transaction commits.
type blobWriter struct {
	bucket *bolt.Bucket
	chunk  []byte
	next   uint32
	length uint64
	crc    hash.Hash32
	err    error
}

func newBlobWriter(b *bolt.Bucket) *blobWriter {
	return &blobWriter{bucket: b, crc: crc32.New(crcTable)}
}

func (w *blobWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := len(p)
	w.crc.Write(p)
	w.length += uint64(n)
	for len(p) > 0 {
		if w.chunk == nil {
			w.chunk = make([]byte, 0, blobChunkSize)
		}
		take := min(len(p), blobChunkSize-len(w.chunk))
		w.chunk = append(w.chunk, p[:take]...)
		p = p[take:]
		if len(w.chunk) == blobChunkSize {
			w.flush()
		}
	}
	return n, w.err
}

func (w *blobWriter) flush() {
	if w.err != nil || len(w.chunk) == 0 {
		return
	}
	w.err = w.bucket.Put(binary.BigEndian.AppendUint32(nil, w.next), w.chunk)
	w.next++
	w.chunk = nil
}

// Close writes the last chunk and the header with extra.
func (w *blobWriter) Close(extra []byte) error {
	w.flush()
	if w.err != nil {
		return w.err
	}
	h := blobHeader{length: w.length, crc: w.crc.Sum32(), chunks: w.next, extra: extra}
	return w.bucket.Put(keyBlobHeader, h.encode())
}

// writeBlob stores data as a blob in a new bucket name under parent,
// replacing any bucket of that name.
func writeBlob(parent *bolt.Bucket, name []byte, data []byte, extra []byte) error {
	if parent.Bucket(name) != nil {
		if err := parent.DeleteBucket(name); err != nil {
			return err
		}
	}
	b, err := parent.CreateBucket(name)
	if err != nil {
		return err
	}
	w := newBlobWriter(b)
	for len(data) > 0 {
		n := min(len(data), blobChunkSize)
		// Copy: the caller's slice may change before the commit.
		if _, err := w.Write(append([]byte(nil), data[:n]...)); err != nil {
			return err
		}
		data = data[n:]
	}
	return w.Close(extra)
}

// blobReader reads a blob's chunks in order inside a transaction,
// checking the chunk count, the length and the checksum at the end.
type blobReader struct {
	bucket *bolt.Bucket
	header blobHeader
	next   uint32
	chunk  []byte
	read   uint64
	crc    hash.Hash32
}

// openBlob returns a reader for the blob in bucket b.
func openBlob(b *bolt.Bucket) (*blobReader, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: blob missing", ErrCorrupt)
	}
	h, err := decodeBlobHeader(b.Get(keyBlobHeader))
	if err != nil {
		return nil, err
	}
	return &blobReader{bucket: b, header: h, crc: crc32.New(crcTable)}, nil
}

func (r *blobReader) Read(p []byte) (int, error) {
	for len(r.chunk) == 0 {
		if r.next == r.header.chunks {
			return 0, io.EOF
		}
		r.chunk = r.bucket.Get(binary.BigEndian.AppendUint32(nil, r.next))
		if r.chunk == nil {
			return 0, fmt.Errorf("%w: blob chunk %d of %d missing", ErrCorrupt, r.next, r.header.chunks)
		}
		r.next++
	}
	n := copy(p, r.chunk)
	r.crc.Write(p[:n])
	r.chunk = r.chunk[n:]
	r.read += uint64(n)
	if r.read > r.header.length {
		return n, fmt.Errorf("%w: blob longer than its header says", ErrCorrupt)
	}
	return n, nil
}

// verify reads what is left and checks the length and the checksum.
func (r *blobReader) verify() error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if r.read != r.header.length {
		return fmt.Errorf("%w: blob of %d bytes, header says %d", ErrCorrupt, r.read, r.header.length)
	}
	if r.crc.Sum32() != r.header.crc {
		return fmt.Errorf("%w: blob checksum mismatch", ErrCorrupt)
	}
	return nil
}

// blobChunks returns the stored chunks of the blob in bucket b, in order,
// without reading them (for read-ahead); nil when b holds no readable
// header. openBlob's reader checks them as it reads.
func blobChunks(b *bolt.Bucket) [][]byte {
	r, err := openBlob(b)
	if err != nil {
		return nil
	}
	var out [][]byte
	for i := range r.header.chunks {
		c := b.Get(binary.BigEndian.AppendUint32(nil, i))
		if c == nil {
			break
		}
		out = append(out, c)
	}
	return out
}

// readBlob returns a copy of the whole blob in bucket b, verified.
func readBlob(b *bolt.Bucket) ([]byte, error) {
	r, err := openBlob(b)
	if err != nil {
		return nil, err
	}
	if r.header.length > 1<<34 {
		return nil, fmt.Errorf("%w: blob of %d bytes", ErrCorrupt, r.header.length)
	}
	out := make([]byte, 0, r.header.length)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.verify(); err != nil {
		return nil, err
	}
	return out, nil
}
