package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"simsearch/dataset"
	"simsearch/encoder"
	"simsearch/index"
	"simsearch/spaces"
)

// FormatVersion is the version of report.json's layout.
const FormatVersion = 2

// Progress reports a stage of Prepare or Run.
type Progress struct {
	// Space is the space being measured; Stage what is being done
	// ("probes", "load vectors and graph", "k-NN", "interventions",
	// "orbits").
	Space, Stage string
	// Done and Total count the stage's steps; Total is 0 when unknown.
	Done, Total int
}

// Report is the outcome of Run: what each space is invariant and sensitive
// to, as plain data. Its JSON form is report.json; package report/render
// draws it as Markdown and pictures.
type Report struct {
	FormatVersion int `json:"format_version"`
	// Database is the store's path.
	Database string `json:"database"`
	// Items counts the ordinary items by split.
	Items    map[string]int `json:"items"`
	Settings Settings       `json:"settings"`
	Spaces   []*SpaceReport `json:"spaces"`
	// CKA compares every pair of spaces over the same items; nil for one
	// space.
	CKA *CKATable `json:"cka,omitempty"`
	// SeedSpreads, for encoders of one recipe trained from several seeds,
	// say how much each cell moves between seeds.
	SeedSpreads []SeedSpread `json:"seed_spreads,omitempty"`
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
	ProbeItems   int        `json:"probe_items"`
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
	// Regression is the k-NN regression of each continuous factor.
	Regression []FactorRegression `json:"regression,omitempty"`
	// Interventions is the geometry of the factor interventions.
	Interventions []Intervention `json:"interventions"`
	// FactorGrid, for a space whose items carry labels of their own (not
	// the colored shapes'), says whether they form a factor grid that
	// interventions are drawn from, and if not why.
	FactorGrid *FactorGrid `json:"factor_grid,omitempty"`
	// Orbit is the geometry of augmentation orbits, nil when none was
	// measured.
	Orbit *Orbit `json:"orbit,omitempty"`
	// Probes are the linear probes of each label, FactorProbes of each
	// continuous factor (probe_linear.go).
	Probes       []LabelProbe  `json:"probes,omitempty"`
	FactorProbes []FactorProbe `json:"factor_probes,omitempty"`
	// Overlap says, per intervention factor and for the orbits, whether
	// the invariance sets overlap in the space.
	Overlap []SupportOverlap `json:"overlap,omitempty"`
	// LabelFree is the effective rank, the axis-aligned scores and the
	// PCA picture (geometry_extra.go).
	LabelFree *LabelFree `json:"label_free,omitempty"`
	// Classifier compares a classifying space's classifier and
	// dual-encoder accuracies (classifier.go); nil for other spaces.
	Classifier *ClassifierCheck `json:"classifier,omitempty"`
	// Norms is the distribution of the output norms of an encoder trained
	// on unnormalized outputs (norms.go); nil for other spaces.
	Norms *NormDistribution `json:"output_norms,omitempty"`
	// Verdicts are per factor, in the order of dataset.AllFactors.
	Verdicts []FactorVerdict `json:"verdicts"`
	// Trust says how far the approximate figures can be trusted.
	Trust Trust `json:"trust"`
	// Grid holds the queries of the neighbour grid: validation items and
	// their nearest training items, nearest first.
	Grid []GridQuery `json:"grid,omitempty"`
	// Distances holds, per probe group, the distribution of distances
	// within and between its sets.
	Distances []DistanceDistribution `json:"distances,omitempty"`
	// Unavailable lists the sections that could not be measured for the
	// space, with why and how to get them (a space of precomputed vectors
	// has no encoder to embed probe images with).
	Unavailable []Unavailable `json:"unavailable,omitempty"`
	// Seconds is the time the space's measurements took, StageSeconds its
	// parts by stage ("k-NN", "interventions", ...).
	Seconds      float64            `json:"seconds"`
	StageSeconds map[string]float64 `json:"stage_seconds"`
}

// Agreement counts the factors whose verdict the theory predicts, and
// those among them whose verdict is the predicted one.
func (sr *SpaceReport) Agreement() (agree, predicted int) {
	for _, v := range sr.Verdicts {
		if v.Predicted != NoVerdict {
			predicted++
			if v.Predicted == v.Verdict {
				agree++
			}
		}
	}
	return agree, predicted
}

// Unavailable is a section of a space's report that was not measured.
type Unavailable struct {
	// Section is "interventions", "orbits" or "verdicts".
	Section string `json:"section"`
	// Reason says why; How what gives it.
	Reason string `json:"reason"`
	How    string `json:"how"`
}

// withoutEncoder reports whether enc cannot embed new images: it stands
// for precomputed vectors (encoder.Precomputed, whose resolution is 0).
// Such a space is measured on its stored vectors alone: k-NN and the
// label-based measures, no interventions, orbits or verdicts.
func withoutEncoder(enc encoder.Encoder) bool { return enc.Res() == 0 }

// unavailableWithoutEncoder lists what a space without an encoder misses.
func unavailableWithoutEncoder(info encoder.Info) []Unavailable {
	why := fmt.Sprintf("the space holds precomputed vectors (%s) and no encoder to embed the generated probe images with", info.Vectors)
	how := "ingest the images into another space with an encoder: --encoder-cmd \"python3 embed.py\" --res N (any model behind the encoder command protocol, see the README) or --encoder CHECKPOINT, then report on that space"
	return []Unavailable{
		{Section: "interventions", Reason: why, How: how},
		{Section: "orbits", Reason: why, How: how},
		{Section: "verdicts", Reason: "a verdict weighs the intervention sensitivity with the k-NN score", How: how},
	}
}

// Groups is the geometry of a collection of probe sets with its summary
// figures: the part that interventions and orbits share.
type Groups struct {
	SetGeometry
	MeanDiameter   float64 `json:"mean_diameter"`
	MeanMargin     float64 `json:"mean_margin"`
	SeparatedShare float64 `json:"separated_share"`
	AllSeparated   bool    `json:"all_separated"`
}

func newGroups(g SetGeometry) Groups {
	return Groups{SetGeometry: g, MeanDiameter: mean(g.Diameters), MeanMargin: mean(g.Margins),
		SeparatedShare: g.SeparatedShare(), AllSeparated: g.AllSeparated()}
}

// Intervention is the geometry of the sets of one factor intervention:
// each set holds items equal but in that factor.
type Intervention struct {
	Factor string `json:"factor"`
	// Source is "stored grid" for sets drawn from the stored items of a
	// factor grid; empty for generated probes.
	Source string `json:"source,omitempty"`
	Groups
}

// Orbit is the geometry of augmentation orbits: each set holds augmented
// views of one image, the positive pairs of contrastive training.
type Orbit struct {
	Augmentation string `json:"augmentation"`
	Groups
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
	// NoIntervention is set when the factor had no intervention (data
	// without a factor grid): Sensitivity is then 0 and not a measure.
	NoIntervention bool `json:"no_intervention,omitempty"`
	// Score is the normalized k-NN score of the factor's label; nil when the
	// factor has no label or it was not measured.
	Score *float64 `json:"knn_score,omitempty"`
	// Predicted is what the theory predicts for the space, if anything.
	Predicted Verdict `json:"predicted,omitempty"`
	// Probe is the score of the factor's linear probe (see
	// SpaceReport.ProbeOf); nil when none was fitted. Witnesses weighs it
	// with the k-NN score and the sensitivity.
	Probe     *float64   `json:"probe,omitempty"`
	Witnesses *Witnesses `json:"witnesses,omitempty"`
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

// GridQuery is one row of a neighbour grid: a query item and its
// neighbours, nearest first.
type GridQuery struct {
	Query      index.ItemID   `json:"query"`
	Neighbours []index.Result `json:"neighbours"`
}

// DistanceDistribution describes the distances of one probe group:
// Within[q] and Between[q] are the q-th percentiles (q = 0 … 100) of the
// distances between two members of one set and between members of two
// sets, from up to maxPlotDistances samples of each.
type DistanceDistribution struct {
	Group   string    `json:"group"`
	Within  []float64 `json:"within_percentiles"`
	Between []float64 `json:"between_percentiles"`
}

// maxTrustQueries is how many k-NN queries are checked against exact search
// when Options.Exact is not set: recall@10 over 3,000 neighbours, within
// about ±0.01 of the recall over every query.
const maxTrustQueries = 300

// encoderOf returns the encoder that embeds a space's probes.
func encoderOf(space index.SpaceStore, opts Options) (encoder.Encoder, error) {
	if opts.Encoders != nil {
		return opts.Encoders(space)
	}
	return spaces.OpenEncoder(space)
}

// Prepare stores the probe items that Run with the same options needs
// (the intervention and orbit sets, kept with set ids and left out of
// ordinary queries) and their vectors in every space to measure, embedded
// with each space's encoder. Items and vectors stored by an earlier
// Prepare are kept, so a second one only checks. st must be writable;
// Run then only reads.
func Prepare(ctx context.Context, st index.Store, opts Options) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	names, err := opts.spaceNames(st)
	if err != nil {
		return err
	}
	items, err := loadItemLabels(ctx, st)
	if err != nil {
		return err
	}
	w := &probeWriter{st: st}
	for _, name := range names {
		if err := prepareSpace(ctx, st, w, name, items, opts); err != nil {
			return fmt.Errorf("space %s: %w", name, err)
		}
		// The graph is stored with the probes in it, so that every Run
		// that opens the store read-only does not insert them again.
		space, err := st.Space(name)
		if err != nil {
			return err
		}
		if !space.Info().Stored.UpToDate {
			if err := space.SaveGraph(ctx); err != nil {
				return fmt.Errorf("space %s: %w", name, err)
			}
		}
	}
	return nil
}

func prepareSpace(ctx context.Context, st index.Store, w *probeWriter, name string, items *itemLabels, opts Options) error {
	space, err := st.Space(name)
	if err != nil {
		return err
	}
	enc, err := encoderOf(space, opts)
	if err != nil {
		return err
	}
	defer enc.Close()
	if withoutEncoder(enc) {
		return nil // no probes: nothing to embed them with
	}
	progress := func(done, total int) {
		if opts.Progress != nil {
			opts.Progress(Progress{Space: name, Stage: "probes", Done: done, Total: total})
		}
	}
	aug := opts.orbitAugmentation(enc.Info())
	if !items.coloredShapes(space) {
		// The space's own labels: interventions come from the stored
		// items (Run), orbits from stored images.
		if aug == "" {
			return nil
		}
		progress(0, 1)
		p, err := storedOrbitImages(st, space, items, aug, enc.Res(), opts)
		if err != nil || len(p.sets) == 0 {
			return err
		}
		if err := w.store(ctx, space, enc, p); err != nil {
			return err
		}
		progress(1, 1)
		return nil
	}
	total := len(dataset.AllFactors)
	if aug != "" {
		total++
	}
	for i, factor := range dataset.AllFactors {
		progress(i, total)
		if err := w.store(ctx, space, enc, interventionImages(factor, enc.Res(), opts)); err != nil {
			return err
		}
	}
	if aug != "" {
		progress(len(dataset.AllFactors), total)
		p, err := orbitImages(aug, enc.Res(), opts)
		if err != nil {
			return err
		}
		if err := w.store(ctx, space, enc, p); err != nil {
			return err
		}
	}
	progress(total, total)
	return nil
}

// Run measures the spaces of st from what it stores: the items' labels,
// the spaces' vectors, and the probe items that Prepare with the same
// options stored (a missing group is an error wrapping ErrNoProbes). It
// only reads, so it runs beside other readers of the store.
func Run(ctx context.Context, st index.Store, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	names, err := opts.spaceNames(st)
	if err != nil {
		return nil, err
	}
	orbitSets := opts.OrbitSets
	if opts.NoOrbits {
		orbitSets = 0
	}
	r := &Report{
		FormatVersion: FormatVersion,
		Database:      st.Path(),
		Items:         st.SplitCounts(),
		Settings: Settings{
			K: opts.K, Queries: opts.Queries, Bases: opts.Bases, Variants: opts.Variants,
			OrbitSets: orbitSets, OrbitSize: opts.OrbitSize, Augmentation: opts.Augmentation,
			Exact: opts.Exact, Ef: opts.Ef, Method: opts.Method.String(), Seed: opts.Seed, Thresholds: opts.Thresholds, ProbeItems: opts.ProbeItems,
		},
	}
	// Items counts the ordinary items: the probes depend on the options.
	delete(r.Items, index.SplitProbe)
	items, err := loadItemLabels(ctx, st)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		sr, err := measureSpace(ctx, st, name, items, opts)
		if err != nil {
			return nil, fmt.Errorf("space %s: %w", name, err)
		}
		r.Spaces = append(r.Spaces, sr)
	}
	if r.CKA, err = measureCKA(ctx, st, names, items, opts.Seed); err != nil {
		return nil, err
	}
	r.SeedSpreads = seedSpreads(r.Spaces)
	return r, nil
}

// stageClock times the stages of one space's measurement and reports
// them to Options.Progress.
type stageClock struct {
	space   string
	opts    Options
	seconds map[string]float64
	stage   string
	start   time.Time
}

func (c *stageClock) progress(stage string, done, total int) {
	if stage != c.stage {
		if c.stage != "" {
			c.seconds[c.stage] += time.Since(c.start).Seconds()
		}
		c.stage, c.start = stage, time.Now()
	}
	if c.opts.Progress != nil && stage != "" {
		c.opts.Progress(Progress{Space: c.space, Stage: stage, Done: done, Total: total})
	}
}

// measureSpace makes the report of one space.
func measureSpace(ctx context.Context, st index.Store, name string, items *itemLabels, opts Options) (*SpaceReport, error) {
	start := time.Now()
	space, err := st.Space(name)
	if err != nil {
		return nil, err
	}
	info, res, err := spaceEncoderInfo(space, opts)
	if err != nil {
		return nil, err
	}
	noEncoder := res == 0 // see withoutEncoder
	clock := &stageClock{space: name, opts: opts, seconds: map[string]float64{}}
	clock.progress("load vectors and graph", 0, 0)
	if err := space.Load(ctx); err != nil {
		return nil, err
	}
	sr := &SpaceReport{Name: name, Encoder: info, Vectors: items.ordinary(space.Items())}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5ace))

	knn, err := measureKNN(ctx, space, items, opts, clock.progress)
	if err != nil {
		return nil, err
	}
	sr.KNN, sr.Trust, sr.Grid = knn.accuracies, knn.trust, knn.grid
	sr.Regression = knn.regression
	if err := measureDecodability(ctx, space, items, opts, sr, clock.progress); err != nil {
		return nil, err
	}
	// Only a classifying encoder has class scores and only a contrastive
	// one output norms worth showing: the others' encoders are not opened
	// again.
	if info.Objective.Classifies() && !noEncoder {
		clock.progress("classifier", 0, 0)
		if sr.Classifier, err = measureClassifier(ctx, st, space, items, opts); err != nil {
			return nil, err
		}
	}
	if info.Objective == encoder.Contrastive && !noEncoder {
		if sr.Norms, err = measureNorms(ctx, st, space, items, opts); err != nil {
			return nil, err
		}
	}

	exactDiffs := knn.exactDiffs
	var marginSets, marginAgree int
	shapes := items.coloredShapes(space)
	factors := dataset.AllFactors
	switch {
	case !shapes:
		// The space's own labels: interventions from a stored factor
		// grid, which need no encoder.
		factors = nil
		grid, gi := findGrid(space, items)
		sr.FactorGrid = grid
		if gi != nil {
			if sr.Interventions, sr.Distances, err = measureGrid(ctx, space, grid, gi, opts, rng, clock.progress); err != nil {
				return nil, err
			}
		}
	case noEncoder:
		factors = nil
		sr.Unavailable = unavailableWithoutEncoder(info)
	}
	for i, factor := range factors {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		clock.progress("interventions", i, len(factors))
		group, err := findGroup(st, space, interventionImages(factor, res, opts).name)
		if err != nil {
			return nil, err
		}
		m, err := measureGroup(ctx, space, group, opts, rng)
		if err != nil {
			return nil, err
		}
		sr.Interventions = append(sr.Interventions, Intervention{Factor: factor.String(), Groups: newGroups(m.geometry)})
		sr.Distances = append(sr.Distances, m.distribution(factor.String()))
		if opts.Exact {
			exactDiffs = append(exactDiffs, m.exactDiffs(factor.String())...)
			marginSets += m.geometry.Sets
			marginAgree += m.marginAgreement
		}
	}
	if len(factors) > 0 {
		clock.progress("interventions", len(factors), len(factors))
	}

	if aug := opts.orbitAugmentation(info); aug != "" && !noEncoder {
		clock.progress("orbits", 0, 0)
		var p probeImages
		if shapes {
			p, err = orbitImages(aug, res, opts)
		} else {
			p, err = storedOrbitImages(st, space, items, aug, res, opts)
		}
		if err != nil {
			return nil, err
		}
		// A space without two stored images to make orbits of has none.
		if len(p.sets) > 0 {
			m, err := measureOrbit(ctx, st, space, p, knn.queryVectors, opts, rng, sr)
			if err != nil {
				return nil, err
			}
			if opts.Exact {
				exactDiffs = append(exactDiffs, m.exactDiffs("orbit")...)
				marginSets += m.geometry.Sets
				marginAgree += m.marginAgreement
			}
		}
	}

	if shapes {
		sr.Verdicts = judge(sr, opts.Thresholds)
	} else {
		sr.Verdicts = judgeLabels(sr, opts.Thresholds)
	}
	addWitnesses(sr, opts.Thresholds)
	sr.Overlap = overlaps(sr)
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
	clock.progress("", 0, 0)
	sr.StageSeconds = clock.seconds
	sr.Seconds = time.Since(start).Seconds()
	return sr, nil
}

// measureOrbit measures the stored orbit group p in space, setting
// sr.Orbit and the group's distances.
func measureOrbit(ctx context.Context, st index.Store, space index.SpaceStore, p probeImages, queryVectors [][]float32, opts Options, rng *rand.Rand, sr *SpaceReport) (groupMeasure, error) {
	group, err := findGroup(st, space, p.name)
	if err != nil {
		return groupMeasure{}, err
	}
	m, err := measureGroup(ctx, space, group, opts, rng)
	if err != nil {
		return groupMeasure{}, err
	}
	sample := queryVectors
	if len(sample) < 2 {
		sample = m.vectors
	}
	g := m.geometry
	sr.Orbit = &Orbit{
		Augmentation: p.augmentation, Groups: newGroups(g),
		Alignment:  Alignment(m.vectors, m.sets),
		Uniformity: Uniformity(sample, rng),
		FeatureStd: FeatureStd(sample),
		UniformStd: 1 / math.Sqrt(float64(space.Dim())),
	}
	sr.Orbit.Collapsed = sr.Orbit.FeatureStd < sr.Orbit.UniformStd/5
	sr.Distances = append(sr.Distances, m.distribution("orbit "+p.augmentation))
	return m, nil
}

// spaceEncoderInfo returns the description and resolution of a space's
// encoder, without running it: Options.Encoders' encoder, or what the
// space stores.
func spaceEncoderInfo(space index.SpaceStore, opts Options) (encoder.Info, int, error) {
	enc, err := encoderOf(space, opts)
	if err != nil {
		return encoder.Info{}, 0, err
	}
	defer enc.Close()
	return enc.Info(), enc.Res(), nil
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
