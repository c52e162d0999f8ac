package index

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestConnect(t *testing.T) {
	ctx := context.Background()
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		st, err := Connect(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if File(st) == nil || st.Path() != path {
			t.Fatalf("Connect(%s) gave %T at %s", path, st, st.Path())
		}
		if _, _, err := st.AddItems(ctx, testItems("a", 3, 1)); err != nil {
			t.Fatal(err)
		}
		sp, err := st.CreateSpace(ctx, SpaceConfig{Name: "s", Dim: 2, Encoder: Encoder{ID: "e"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sp.AddVectors(ctx, []ItemID{0, 1}, []float32{1, 0, 0, 1}); err != nil {
			t.Fatal(err)
		}
		again, err := st.Space("s")
		if err != nil || again.Len() != 2 {
			t.Fatalf("Space(s) = %v, %v; want 2 vectors", again, err)
		}
		if _, err := st.Space("nosuch"); !errors.Is(err, ErrNoSpace) {
			t.Fatalf("Space(nosuch) error %v, want ErrNoSpace", err)
		}
	})
	t.Run("unknown scheme", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Connect(ctx, "mysql://"+dir, Options{})
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error %v, want ErrInvalid", err)
		}
	})
	t.Run("driver", func(t *testing.T) {
		opened := ""
		RegisterDriver(Driver{
			Name:   "test-driver",
			Claims: func(target string) bool { return target == "testdriver:x" },
			Open: func(_ context.Context, target string, _ Options) (Store, error) {
				opened = target
				return nil, errors.New("refused")
			},
		})
		if _, err := Connect(ctx, "testdriver:x", Options{}); err == nil || opened != "testdriver:x" {
			t.Fatalf("driver not used: opened %q, error %v", opened, err)
		}
	})
}
