package report

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
)

// FormatVersion is the version of report.json's layout.
const FormatVersion = 1

// Options configure Run. Zero fields take the defaults named in their
// comments; DefaultOptions returns them.
type Options struct {
	// Spaces names the spaces to measure, in the order of the report; empty
	// means every space of the file, sorted by name.
	Spaces []string
	// K is the number of neighbours of a k-NN vote; 0 means 10.
	K int
	// Queries caps the validation items that query the training items;
	// 0 means all of them.
	Queries int
	// Bases is the number of invariance sets per factor intervention (base
	// items); 0 means 400.
	Bases int
	// Variants is the number of members of an intervention set (the shape
	// intervention always has the three shapes); 0 means 8.
	Variants int
	// OrbitSets is the number of augmentation orbits; 0 means 200. Negative
	// measures no orbits.
	OrbitSets int
	// OrbitSize is the number of augmentations of one image in an orbit;
	// 0 means 8.
	OrbitSize int
	// Augmentation makes the orbits of every space ("A", "B", "C" or
	// primitives); empty means each space's own training augmentation, and
	// no orbits for spaces trained without one.
	Augmentation string
	// Thresholds turn measurements into verdicts; the zero value means
	// DefaultThresholds.
	Thresholds Thresholds
	// Exact recomputes every figure that comes from the index by brute
	// force and reports the largest difference.
	Exact bool
	// Ef is the HNSW search breadth; 0 means the space's default.
	Ef int
	// Method is how neighbours are found: index.Auto (the zero value) lets
	// the index choose per query, index.Exact scans every vector (the
	// brute-force baseline), index.HNSW always walks the graph.
	Method index.Method
	// Seed draws the probe items, the orbits' augmentations and the sampled
	// queries; 0 means 1.
	Seed uint64
	// GridQueries is the number of validation queries drawn in each space's
	// neighbour grid; 0 means 8, negative draws none.
	GridQueries int
	// Encoders returns the encoder that embeds a space's probe items; nil
	// means the encoder stored in the space.
	Encoders func(*index.Space) (Encoder, error)
	// Progress, if not nil, is called as each stage advances.
	Progress func(Progress)
}

// DefaultOptions returns the options the zero value stands for.
func DefaultOptions() Options {
	return Options{
		K: 10, Bases: 400, Variants: 8, OrbitSets: 200, OrbitSize: 8,
		Thresholds: DefaultThresholds(), Seed: 1, GridQueries: 8,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.K <= 0 {
		o.K = d.K
	}
	if o.Bases <= 0 {
		o.Bases = d.Bases
	}
	if o.Variants <= 0 {
		o.Variants = d.Variants
	}
	if o.OrbitSets == 0 {
		o.OrbitSets = d.OrbitSets
	}
	if o.OrbitSize <= 0 {
		o.OrbitSize = d.OrbitSize
	}
	if o.Thresholds == (Thresholds{}) {
		o.Thresholds = d.Thresholds
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.GridQueries == 0 {
		o.GridQueries = d.GridQueries
	}
	return o
}

func (o Options) validate() error {
	switch {
	case o.Variants < 2:
		return fmt.Errorf("%w: an intervention set needs at least 2 variants, not %d", ErrOptions, o.Variants)
	case o.OrbitSets > 0 && o.OrbitSize < 2:
		return fmt.Errorf("%w: an orbit needs at least 2 augmentations, not %d", ErrOptions, o.OrbitSize)
	case o.Bases < 2:
		return fmt.Errorf("%w: interventions need at least 2 sets, not %d", ErrOptions, o.Bases)
	case o.OrbitSets == 1:
		return fmt.Errorf("%w: orbits need at least 2 sets, not 1", ErrOptions)
	}
	if err := o.Thresholds.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return nil
}

// Encoder embeds images for a space: the space's own encoder, or in tests
// any function of the pixels.
type Encoder interface {
	// Res is the side of the square images Embed takes.
	Res() int
	// Info describes the encoder, for the report and the theory's
	// predictions.
	Info() encoder.Info
	// Embed returns one vector per image.
	Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error)
}

// Progress reports a stage of Run.
type Progress struct {
	// Space is the space being measured; Stage what is being done
	// ("load", "k-NN", "probes", "interventions", "orbits").
	Space, Stage string
	// Done and Total count the stage's steps; Total is 0 when unknown.
	Done, Total int
}

// Report is the outcome of Run: what each space is invariant and sensitive
// to. Its JSON form is report.json.
type Report struct {
	FormatVersion int            `json:"format_version"`
	Database      string         `json:"database"`
	Items         map[string]int `json:"items"`
	Settings      Settings       `json:"settings"`
	Spaces        []*SpaceReport `json:"spaces"`
}

// Settings are the options a report was made with.
type Settings struct {
	K            int        `json:"k"`
	Queries      int        `json:"max_queries,omitempty"`
	Bases        int        `json:"bases"`
	Variants     int        `json:"variants"`
	OrbitSets    int        `json:"orbit_sets"`
	OrbitSize    int        `json:"orbit_size"`
	Augmentation string     `json:"augmentation,omitempty"`
	Exact        bool       `json:"exact"`
	Ef           int        `json:"ef,omitempty"`
	Method       string     `json:"method"`
	Seed         uint64     `json:"seed"`
	Thresholds   Thresholds `json:"thresholds"`
}

// SpaceReport holds the measurements of one space.
type SpaceReport struct {
	Name    string       `json:"name"`
	Encoder encoder.Info `json:"encoder"`
	// Vectors counts the space's vectors of ordinary (not probe) items.
	Vectors int `json:"vectors"`
	// KNN is the k-NN factor accuracy per label; empty when the space has
	// no labelled validation and training items.
	KNN []LabelAccuracy `json:"knn"`
	// Interventions is the geometry of the factor interventions.
	Interventions []Intervention `json:"interventions"`
	// Orbit is the geometry of augmentation orbits, nil when none was
	// measured.
	Orbit *Orbit `json:"orbit,omitempty"`
	// Verdicts are per factor, in the order of dataset.AllFactors.
	Verdicts []FactorVerdict `json:"verdicts"`
	// Trust says how far the approximate figures can be trusted.
	Trust Trust `json:"trust"`
	// Seconds is the time the space's measurements took, StageSeconds its
	// parts by stage ("k-NN", "interventions", ...).
	Seconds      float64            `json:"seconds"`
	StageSeconds map[string]float64 `json:"stage_seconds"`

	// Pictures, rendered as PNG for WriteFiles: the neighbour grid of
	// validation queries and the distance distributions.
	neighbourGrid []byte
	distancePlot  []byte
	// distances keeps the samples behind distancePlot.
	distances []distanceSample
}

// Intervention is the geometry of the sets of one factor intervention:
// each set holds items equal but in that factor.
type Intervention struct {
	Factor string `json:"factor"`
	SetGeometry
	MeanDiameter   float64 `json:"mean_diameter"`
	MeanMargin     float64 `json:"mean_margin"`
	SeparatedShare float64 `json:"separated_share"`
	AllSeparated   bool    `json:"all_separated"`
}

// Orbit is the geometry of augmentation orbits: each set holds augmented
// views of one image, the positive pairs of contrastive training.
type Orbit struct {
	Augmentation string `json:"augmentation"`
	SetGeometry
	MeanDiameter   float64 `json:"mean_diameter"`
	MeanMargin     float64 `json:"mean_margin"`
	SeparatedShare float64 `json:"separated_share"`
	AllSeparated   bool    `json:"all_separated"`
	// Alignment is E‖f(x) − f(x⁺)‖² over the orbits' pairs; Uniformity is
	// log E exp(−2‖f(x) − f(y)‖²) over validation items (orbit members
	// when the space has none).
	Alignment  float64 `json:"alignment"`
	Uniformity float64 `json:"uniformity"`
	// FeatureStd is the mean per-dimension std of normalized vectors;
	// UniformStd = 1/√d is what vectors spread over the sphere give.
	// Collapsed is set when FeatureStd is below a fifth of UniformStd.
	FeatureStd float64 `json:"feature_std"`
	UniformStd float64 `json:"uniform_std"`
	Collapsed  bool    `json:"collapsed"`
}

// FactorVerdict is the verdict on one factor with the measures behind it.
type FactorVerdict struct {
	Factor      string  `json:"factor"`
	Verdict     Verdict `json:"verdict"`
	Sensitivity float64 `json:"sensitivity"`
	// Score is the normalized k-NN score of the factor's label; nil when the
	// factor has no label or it was not measured.
	Score *float64 `json:"knn_score,omitempty"`
	// Predicted is what the theory predicts for the space, if anything.
	Predicted Verdict `json:"predicted,omitempty"`
}

// Trust says how far a report's approximate figures can be trusted.
type Trust struct {
	// Queries k-NN queries were checked against exact search: Recall is
	// the mean recall@k of the index on them, MinRecall the worst query's.
	Queries   int     `json:"queries"`
	K         int     `json:"k"`
	Recall    float64 `json:"recall"`
	MinRecall float64 `json:"min_recall"`
	// Exact is set when every figure was also computed by brute force;
	// MaxDifference is then the largest absolute difference between the
	// two, found in WorstFigure.
	Exact         bool    `json:"exact"`
	MaxDifference float64 `json:"max_difference,omitempty"`
	WorstFigure   string  `json:"worst_figure,omitempty"`
	// MarginAgreement is the share of sets whose index margin equals the
	// exact one (with Exact).
	MarginAgreement float64 `json:"margin_agreement,omitempty"`
}

// maxTrustQueries is how many k-NN queries are checked against exact search
// when Options.Exact is not set: recall@10 over 3,000 neighbours, within
// about ±0.01 of the recall over every query.
const maxTrustQueries = 300

// Run measures the spaces of db. It adds probe items (the intervention and
// orbit sets, kept in the file with set ids and left out of ordinary
// queries) and their vectors to every space measured, so db must be
// writable; a second run with the same options reuses them.
func Run(ctx context.Context, db *index.DB, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	names := opts.Spaces
	if len(names) == 0 {
		var err error
		if names, err = db.SpaceNames(); err != nil {
			return nil, err
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%w: %s has no space to report on; ingest images into one first", ErrOptions, db.Path())
		}
	}
	r := &Report{
		FormatVersion: FormatVersion,
		Database:      db.Path(),
		Items:         db.SplitCounts(),
		Settings: Settings{
			K: opts.K, Queries: opts.Queries, Bases: opts.Bases, Variants: opts.Variants,
			OrbitSets: max(opts.OrbitSets, 0), OrbitSize: opts.OrbitSize, Augmentation: opts.Augmentation,
			Exact: opts.Exact, Ef: opts.Ef, Method: opts.Method.String(), Seed: opts.Seed, Thresholds: opts.Thresholds,
		},
	}
	// Items counts the ordinary items: the probes depend on the options.
	delete(r.Items, index.SplitProbe)
	items, err := loadItemLabels(ctx, db)
	if err != nil {
		return nil, err
	}
	probes := newProbeStore(db)
	for _, name := range names {
		sr, err := measureSpace(ctx, db, name, items, probes, opts)
		if err != nil {
			return nil, fmt.Errorf("space %s: %w", name, err)
		}
		r.Spaces = append(r.Spaces, sr)
	}
	return r, nil
}

// measureSpace makes the report of one space.
func measureSpace(ctx context.Context, db *index.DB, name string, items *itemLabels, probes *probeStore, opts Options) (*SpaceReport, error) {
	start := time.Now()
	space, err := db.Space(name)
	if err != nil {
		return nil, err
	}
	enc, err := spaceEncoder(space, opts)
	if err != nil {
		return nil, err
	}
	stageSeconds := map[string]float64{}
	stageName, stageStart := "", time.Now()
	progress := func(stage string, done, total int) {
		if stage != stageName {
			if stageName != "" {
				stageSeconds[stageName] += time.Since(stageStart).Seconds()
			}
			stageName, stageStart = stage, time.Now()
		}
		if opts.Progress != nil && stage != "" {
			opts.Progress(Progress{Space: name, Stage: stage, Done: done, Total: total})
		}
	}
	progress("load vectors and graph", 0, 0)
	if err := space.Load(ctx); err != nil {
		return nil, err
	}
	sr := &SpaceReport{Name: name, Encoder: enc.Info(), Vectors: items.ordinary(space.Items())}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5ace))

	knn, err := measureKNN(ctx, space, items, opts, progress)
	if err != nil {
		return nil, err
	}
	sr.KNN = knn.accuracies
	sr.Trust = knn.trust

	exactDiffs := knn.exactDiffs
	var marginSets, marginAgree int
	for _, factor := range dataset.AllFactors {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		progress("interventions", int(factor), len(dataset.AllFactors))
		group, err := probes.interventions(ctx, space, enc, factor, opts)
		if err != nil {
			return nil, err
		}
		m, err := measureGroup(ctx, space, group, opts, rng)
		if err != nil {
			return nil, err
		}
		sr.Interventions = append(sr.Interventions, Intervention{
			Factor: factor.String(), SetGeometry: m.geometry,
			MeanDiameter: mean(m.geometry.Diameters), MeanMargin: mean(m.geometry.Margins),
			SeparatedShare: m.geometry.SeparatedShare(), AllSeparated: m.geometry.AllSeparated(),
		})
		sr.distances = append(sr.distances, m.sample(factor.String()))
		if opts.Exact {
			exactDiffs = append(exactDiffs, m.exactDiffs(factor.String())...)
			marginSets += m.geometry.Sets
			marginAgree += m.marginAgreement
		}
	}

	progress("interventions", len(dataset.AllFactors), len(dataset.AllFactors))

	augmentation := opts.Augmentation
	if augmentation == "" {
		augmentation = sr.Encoder.Augmentation
	}
	if opts.OrbitSets > 0 && augmentation != "" && augmentation != "none" {
		progress("orbits", 0, 0)
		group, err := probes.orbits(ctx, space, enc, augmentation, opts)
		if err != nil {
			return nil, err
		}
		m, err := measureGroup(ctx, space, group, opts, rng)
		if err != nil {
			return nil, err
		}
		sample := knn.queryVectors
		if len(sample) < 2 {
			sample = m.vectors
		}
		g := m.geometry
		sr.Orbit = &Orbit{
			Augmentation: group.augmentation, SetGeometry: g,
			MeanDiameter: mean(g.Diameters), MeanMargin: mean(g.Margins),
			SeparatedShare: g.SeparatedShare(), AllSeparated: g.AllSeparated(),
			Alignment:  Alignment(m.vectors, m.sets),
			Uniformity: Uniformity(sample, rng),
			FeatureStd: FeatureStd(sample),
			UniformStd: 1 / math.Sqrt(float64(space.Dim())),
		}
		sr.Orbit.Collapsed = sr.Orbit.FeatureStd < sr.Orbit.UniformStd/5
		sr.distances = append(sr.distances, m.sample("orbit "+group.augmentation))
		if opts.Exact {
			exactDiffs = append(exactDiffs, m.exactDiffs("orbit")...)
			marginSets += g.Sets
			marginAgree += m.marginAgreement
		}
	}

	progress("pictures", 0, 0)
	sr.Verdicts = judge(sr, opts.Thresholds)
	if opts.Exact {
		sr.Trust.Exact = true
		for _, d := range exactDiffs {
			if d.diff >= sr.Trust.MaxDifference {
				sr.Trust.MaxDifference, sr.Trust.WorstFigure = d.diff, d.figure
			}
		}
		if marginSets > 0 {
			sr.Trust.MarginAgreement = float64(marginAgree) / float64(marginSets)
		}
	}
	if opts.GridQueries > 0 && len(knn.gridRows) > 0 {
		if sr.neighbourGrid, err = neighbourGrid(db, name, knn.gridRows); err != nil {
			return nil, err
		}
	}
	if sr.distancePlot, err = distancePlot(name, sr.distances); err != nil {
		return nil, err
	}
	progress("", 0, 0)
	sr.StageSeconds = stageSeconds
	sr.Seconds = time.Since(start).Seconds()
	return sr, nil
}

// judge gives the verdicts of a space from its measurements.
func judge(sr *SpaceReport, t Thresholds) []FactorVerdict {
	predicted := Predict(string(sr.Encoder.Objective), sr.Encoder.Augmentation, sr.Encoder.Label)
	var out []FactorVerdict
	for _, iv := range sr.Interventions {
		v := FactorVerdict{Factor: iv.Factor, Sensitivity: iv.Sensitivity, Predicted: predicted[iv.Factor]}
		for _, a := range sr.KNN {
			if a.Label == iv.Factor && a.Queries > 0 {
				score := a.Normalized
				v.Score = &score
			}
		}
		v.Verdict = t.Judge(iv.Sensitivity, scoreOf(v.Score), v.Score != nil)
		out = append(out, v)
	}
	return out
}

func scoreOf(s *float64) float64 {
	if s == nil {
		return math.NaN()
	}
	return *s
}

// spaceEncoder returns the encoder that embeds the space's probes.
func spaceEncoder(space *index.Space, opts Options) (Encoder, error) {
	if opts.Encoders != nil {
		return opts.Encoders(space)
	}
	stored, err := space.Encoder()
	if err != nil {
		return nil, err
	}
	m, err := encoder.Decode(stored.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("the encoder stored in the space: %w", err)
	}
	if err := space.CheckEncoder(m.ID()); err != nil {
		return nil, err
	}
	return modelEncoder{m, m.NewEmbedder(encoder.EmbedOptions{})}, nil
}

// modelEncoder is an Encoder backed by an encoder.Model.
type modelEncoder struct {
	model    *encoder.Model
	embedder *encoder.Embedder
}

func (e modelEncoder) Res() int           { return e.model.Res() }
func (e modelEncoder) Info() encoder.Info { return e.model.Info() }
func (e modelEncoder) Embed(ctx context.Context, images []*image.RGBA) ([][]float32, error) {
	return e.embedder.Embed(ctx, images)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
