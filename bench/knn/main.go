// Command knn measures what training does to nearest neighbours: it trains
// encoders on generated colored shapes, embeds the training and validation
// images, and reports for each factor label the accuracy of a majority vote
// among the k exact nearest training images (cosine similarity, the same
// order as Euclidean distance on the unit sphere), beside the label's
// chance level (the majority class rate).
//
// It is a measurement for BENCHMARKS.md, not part of simsearch:
//
//	go run ./bench/knn -data shapes:n=3200,seed=1,res=32 -epochs 8 -batch 64 -models A,B,C,autoencoder,pixels,random
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"log"
	"os"
	"sort"
	"strings"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
)

func main() {
	data := flag.String("data", "shapes:n=3200,seed=1,res=32", "generator spec; its training split trains, its validation split queries")
	models := flag.String("models", "A,pixels,random", "comma-separated: augmentations (contrastive), autoencoder, pixels, random")
	epochs := flag.Int("epochs", 8, "training epochs")
	batch := flag.Int("batch", 64, "batch size")
	width := flag.Int("width", 32, "base width")
	k := flag.Int("k", 10, "neighbours per query")
	seed := flag.Uint64("seed", 1, "training seed")
	flag.Parse()
	log.SetFlags(0)

	ctx := context.Background()
	spec, err := dataset.ParseSpec(*data)
	if err != nil {
		log.Fatal(err)
	}
	train, err := encoder.LoadTrainingSet(ctx, *data)
	if err != nil {
		log.Fatal(err)
	}
	nTrain, nVal := spec.Counts()
	val := make([]*image.RGBA, nVal)
	valLabels := make([]dataset.Labels, nVal)
	for i := range val {
		val[i] = spec.Image(nTrain + i)
		valLabels[i] = spec.Labels(nTrain + i)
	}
	fmt.Printf("data %s: %d training, %d validation images; k = %d; width %d, %d epochs, batch %d, seed %d\n\n",
		spec, nTrain, nVal, *k, *width, *epochs, *batch, *seed)
	fmt.Printf("%-22s %6s  %-13s %-13s %-13s %-13s\n", "model", "secs", "shape", "color", "location", "size")
	fmt.Printf("%-22s %6s  %-13s %-13s %-13s %-13s\n", "chance (val)", "",
		chance(valLabels, "shape"), chance(valLabels, "color"), chance(valLabels, "location"), chance(valLabels, "size"))

	for _, name := range strings.Split(*models, ",") {
		start := time.Now()
		var m *encoder.Model
		switch name {
		case "pixels", "random":
			m, err = encoder.NewBaseline(encoder.BaselineOptions{Objective: encoder.Objective(name), Res: spec.Res, Width: *width, Seed: *seed})
		case "autoencoder":
			m, err = encoder.Train(ctx, encoder.TrainOptions{Data: train, Objective: encoder.Autoencoder, Width: *width, Epochs: *epochs, Batch: *batch, Seed: *seed})
		default:
			m, err = encoder.Train(ctx, encoder.TrainOptions{Data: train, Objective: encoder.Contrastive, Augmentation: name, Width: *width, Epochs: *epochs, Batch: *batch, Seed: *seed})
		}
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		secs := time.Since(start).Seconds()
		e := m.NewEmbedder(encoder.EmbedOptions{})
		trainVecs, err := e.Embed(ctx, train.Images)
		if err != nil {
			log.Fatal(err)
		}
		valVecs, err := e.Embed(ctx, val)
		if err != nil {
			log.Fatal(err)
		}
		label := name
		if name != "pixels" && name != "random" && name != "autoencoder" {
			label = "contrastive " + name
		}
		valNN := neighbours(valVecs, trainVecs, *k, false)
		trainNN := neighbours(trainVecs, trainVecs, *k, true)
		var cells []string
		for _, l := range dataset.LabelNames {
			cells = append(cells, fmt.Sprintf("%.3f / %.3f", accuracy(valNN, valLabels, train.Labels, l), accuracy(trainNN, train.Labels, train.Labels, l)))
		}
		fmt.Printf("%-22s %6.1f  %-13s %-13s %-13s %-13s\n", label, secs, cells[0], cells[1], cells[2], cells[3])
	}
	fmt.Println("\ncells: k-NN accuracy of validation queries / of training queries (leaving themselves out)")
	os.Exit(0)
}

// neighbours returns, for each query, the indices of its k most similar
// items (largest dot product), leaving out the item of the same index if
// self.
func neighbours(queries, items [][]float32, k int, self bool) [][]int {
	out := make([][]int, len(queries))
	type scored struct {
		i int
		s float32
	}
	for q, v := range queries {
		best := make([]scored, 0, k+1)
		for i, u := range items {
			if self && i == q {
				continue
			}
			var s float32
			for j := range v {
				s += v[j] * u[j]
			}
			if len(best) < k || s > best[len(best)-1].s {
				best = append(best, scored{i, s})
				sort.Slice(best, func(a, b int) bool { return best[a].s > best[b].s })
				if len(best) > k {
					best = best[:k]
				}
			}
		}
		for _, b := range best {
			out[q] = append(out[q], b.i)
		}
	}
	return out
}

// accuracy is the share of queries whose label is the majority label of
// their neighbours (ties go to the nearest neighbour's label).
func accuracy(nn [][]int, queryLabels, itemLabels []dataset.Labels, name string) float64 {
	right := 0
	for q, idx := range nn {
		votes := map[int]int{}
		bestLabel, bestVotes := -1, 0
		for _, i := range idx {
			l, _ := itemLabels[i].Get(name)
			votes[l]++
		}
		for _, i := range idx { // nearest first, so ties go to the nearest
			l, _ := itemLabels[i].Get(name)
			if votes[l] > bestVotes {
				bestLabel, bestVotes = l, votes[l]
			}
		}
		if want, _ := queryLabels[q].Get(name); want == bestLabel {
			right++
		}
	}
	return float64(right) / float64(len(nn))
}

// chance is the majority class rate of a label.
func chance(labels []dataset.Labels, name string) string {
	counts := map[int]int{}
	top := 0
	for _, l := range labels {
		v, _ := l.Get(name)
		counts[v]++
		top = max(top, counts[v])
	}
	return fmt.Sprintf("%.3f", float64(top)/float64(len(labels)))
}
