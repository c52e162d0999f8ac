package ingest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"simsearch/encoder"
	"simsearch/index"
	"simsearch/ingest"
)

// Ingest a generated dataset into a space, run it again (nothing to do),
// and find an item's nearest neighbour: itself, at distance 0.
func ExampleRun() {
	dir, err := os.MkdirTemp("", "ingest-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := index.Connect(context.Background(), filepath.Join(dir, "shapes.db"), index.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	model, err := encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Pixels, Res: 16})
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	opts := ingest.Options{Source: "shapes:n=100,seed=1,res=16", Space: "pixels", Encoder: model}
	for range 2 {
		sum, err := ingest.Run(ctx, db, opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d images: %d items and %d vectors added, %d already present\n",
			sum.Images, sum.AddedItems, sum.AddedVectors, sum.Present)
	}

	space, err := db.Space("pixels")
	if err != nil {
		log.Fatal(err)
	}
	item, err := db.Item(17)
	if err != nil {
		log.Fatal(err)
	}
	vector, err := space.Vector(17)
	if err != nil {
		log.Fatal(err)
	}
	nearest, err := space.Search(vector, index.SearchOptions{K: 1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("item 17 (%s, %s, shape %d) is nearest to item %d at %.1f\n",
		item.Source, item.Split, item.Labels["shape"], nearest[0].ID, nearest[0].Distance)
	// Output:
	// 100 images: 100 items and 100 vectors added, 0 already present
	// 100 images: 0 items and 0 vectors added, 100 already present
	// item 17 (shapes:n=100,seed=1,res=16,val=0.375#17, train, shape 2) is nearest to item 17 at 0.0
}
