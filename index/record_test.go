package index

import (
	"crypto/sha256"
	"reflect"
	"testing"

	"simsearch/index/hnsw"
)

func TestItemRecordRoundTrip(t *testing.T) {
	for _, it := range []Item{
		{Source: "a.png", Split: SplitTrain},
		{Source: "gen:seed=1,i=7", Hash: sha256.Sum256([]byte("x")), Split: SplitProbe, SetID: 1 << 31, Group: "shape",
			Factors: map[string]float64{"hue": 0.25, "radius": -3e300}, Labels: map[string]int{"shape": 2, "neg": -5, "big": 1<<31 - 1}},
	} {
		var got Item
		if err := decodeItemRecord(appendItemRecord(nil, &it), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, it) {
			t.Fatalf("decoded %+v, want %+v", got, it)
		}
	}
}

func FuzzItemRecord(f *testing.F) {
	it := Item{Source: "s", Split: "train", SetID: 3, Group: "g", Factors: map[string]float64{"hue": 0.5}, Labels: map[string]int{"shape": 1}}
	f.Add(appendItemRecord(nil, &it))
	f.Add([]byte{itemRecordVersion})
	f.Add([]byte{itemRecordVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Item
		if err := decodeItemRecord(data, &a); err != nil {
			return
		}
		var b Item
		if err := decodeItemRecord(appendItemRecord(nil, &a), &b); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the item: %+v vs %+v", a, b)
		}
	})
}

func FuzzSpaceRecord(f *testing.F) {
	r := spaceRecord{dim: 128, metric: Cosine, graph: DefaultGraphConfig(), encoderID: "abc", description: "d", resolution: 64, encoderSize: 1000, vectors: 5}
	f.Add(r.encode())
	r.storage = Int8
	f.Add(r.encode())
	f.Add([]byte{spaceRecordVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := decodeSpaceRecord(data)
		if err != nil {
			return
		}
		b, err := decodeSpaceRecord(a.encode())
		if err != nil || a != b {
			t.Fatalf("round trip: %+v vs %+v (%v)", a, b, err)
		}
	})
}

func FuzzBlobAndGraphHeaders(f *testing.F) {
	f.Add(blobHeader{length: 10, crc: 3, chunks: 1, extra: extraFor(spaceRecord{dim: 4, metric: Cosine, graph: DefaultGraphConfig()}, 7, nil).encode()}.encode())
	quant := &hnsw.Quantizer{Min: []float32{-1, 0, 0.5, 2}, Scale: []float32{0.01, 0, 0.1, 1}}
	f.Add(blobHeader{length: 10, crc: 3, chunks: 1, extra: extraFor(spaceRecord{dim: 4, metric: Cosine, graph: DefaultGraphConfig(), storage: Int8}, 7, quant).encode()}.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := decodeBlobHeader(data)
		if err != nil {
			return
		}
		decodeGraphExtra(h.extra)
		decodeSplitCounts(data)
	})
}
