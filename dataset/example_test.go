package dataset_test

import (
	"fmt"
	"math/rand/v2"

	"simsearch/dataset"
)

func ExampleParseSpec() {
	spec, err := dataset.ParseSpec("shapes:n=1000,res=32")
	if err != nil {
		panic(err)
	}
	train, val := spec.Counts()
	fmt.Println(spec, train, val)
	// Output: shapes:n=1000,seed=1,res=32,val=0.375 625 375
}

func ExampleFactors_Labels() {
	f := dataset.Factors{Shape: dataset.Triangle, Hue: 0.6, Saturation: 0.7, Value: 0.8, Radius: 13, CX: 50, CY: 10}
	fmt.Printf("%+v\n", f.Labels(64))
	// Output: {Shape:2 Color:4 Location:2 Size:2}
}

func ExampleParseAugmentation() {
	aug, err := dataset.ParseAugmentation("pad:24,rotate,crop:0.2-0.6")
	if err != nil {
		panic(err)
	}
	fmt.Println(aug)
	src := dataset.DefaultSpec().Image(0)
	view := aug.Apply(src, rand.New(rand.NewPCG(1, 2)))
	fmt.Println(view.Bounds())
	// Output:
	// pad:24,rotate:0-360,crop:0.2-0.6:1
	// (0,0)-(64,64)
}
