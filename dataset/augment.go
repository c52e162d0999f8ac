package dataset

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Augmentation turns an image into a random view of it; two views of one
// image make a positive pair for contrastive training. The augmentations of
// this package are safe for concurrent use, each goroutine with its own
// *rand.Rand.
type Augmentation interface {
	// Apply returns a new image, the size of src, drawn at random with rng.
	// src is not modified.
	Apply(src *image.RGBA, rng *rand.Rand) *image.RGBA
	// String returns the text that ParseAugmentation reads back.
	String() string
}

// The augmentations of the specification, by name. Lengths are pixels at
// 64 px and scale with the image.
var namedAugmentations = []struct{ name, definition string }{
	// A: colour — grayscale with p = 0.2, then colour jitter.
	{"A", "grayscale@0.2,jitter:0.7-1.3:0.7-1.3:0.1-1.9:-0.5-0.5"},
	// B: location — pad, rotate, random resized crop of a square.
	{"B", "pad:24,rotate:0-360,crop:0.2-0.6:1"},
	// C: shape and location — pad, rotate, with p = 0.7 an affine map and a
	// perspective, a random resized crop of any aspect ratio, rotate again.
	{"C", "pad:16,rotate:0-360,(affine:0.3:-80-80,perspective:0.6)@0.7,crop:0.4-0.8:0.2-5,rotate:0-360"},
	// none: the image unchanged.
	{"none", ""},
}

// Pipeline is an Augmentation made of primitive steps. Its geometric steps
// (pad, rotate, affine, perspective, crop) compose into one projective
// transform per sample, sampled once with nearest-neighbour interpolation
// and black fill; then its colour steps (grayscale, jitter, brightness,
// contrast, saturation, hue) run in their order on the pixels.
//
// A Pipeline is immutable and safe for concurrent use; each goroutine needs
// its own *rand.Rand.
type Pipeline struct {
	name  string // "A", "B", "C", "none", or "" for a pipeline of primitives
	steps []step
}

// stepKind names a primitive, or a group of steps.
type stepKind uint8

const (
	stepGroup stepKind = iota
	stepGrayscale
	stepJitter
	stepBrightness
	stepContrast
	stepSaturation
	stepHue
	stepPad
	stepRotate
	stepAffine
	stepPerspective
	stepCrop
)

// step is a primitive with its parameters, or a group of steps, applied
// with probability p.
type step struct {
	kind stepKind
	// ranges and value hold the parameters; which ones depends on kind.
	ranges [4]Range
	value  float64
	p      float64
	group  []step
}

// primitiveSyntax describes each primitive: its name, what it does, its
// parameters with their defaults, for help and errors.
type primitiveSyntax struct {
	name     string
	kind     stepKind
	doc      string
	params   []paramSyntax
	required int // number of leading parameters without a default
}

type paramSyntax struct {
	name    string
	isRange bool    // a range lo-hi (a single number v means v-v)
	lo, hi  float64 // bounds of allowed values
	def     Range   // default
}

var primitives = []primitiveSyntax{
	{name: "grayscale", kind: stepGrayscale, doc: "to gray (BT.601 luma)"},
	{name: "jitter", kind: stepJitter, doc: "the next four in turn", params: []paramSyntax{
		{"brightness", true, 0, math.Inf(1), Range{0.7, 1.3}},
		{"contrast", true, 0, math.Inf(1), Range{0.7, 1.3}},
		{"saturation", true, 0, math.Inf(1), Range{0.1, 1.9}},
		{"hue shift (turns)", true, -0.5, 0.5, Range{-0.5, 0.5}},
	}},
	{name: "brightness", kind: stepBrightness, doc: "multiply the colour", params: []paramSyntax{{"factor", true, 0, math.Inf(1), Range{0.7, 1.3}}}},
	{name: "contrast", kind: stepContrast, doc: "blend with the object's mean gray", params: []paramSyntax{{"factor", true, 0, math.Inf(1), Range{0.7, 1.3}}}},
	{name: "saturation", kind: stepSaturation, doc: "blend with the pixel's gray", params: []paramSyntax{{"factor", true, 0, math.Inf(1), Range{0.1, 1.9}}}},
	{name: "hue", kind: stepHue, doc: "turn the hue", params: []paramSyntax{{"shift (turns)", true, -0.5, 0.5, Range{-0.5, 0.5}}}},
	{name: "pad", kind: stepPad, doc: "add a black border to each side", required: 1, params: []paramSyntax{{"length (px at 64 px)", false, 0, 1024, Range{}}}},
	{name: "rotate", kind: stepRotate, doc: "turn about the centre, clockwise", params: []paramSyntax{{"angle (degrees)", true, -3600, 3600, Range{0, 360}}}},
	{name: "affine", kind: stepAffine, doc: "shift and shear about the centre", params: []paramSyntax{
		{"largest shift (share of the canvas)", false, 0, 1, Range{0.3, 0.3}},
		{"shear (degrees)", true, -89, 89, Range{-80, 80}},
	}},
	{name: "perspective", kind: stepPerspective, doc: "move the corners inward", params: []paramSyntax{{"distortion (share of the half size)", false, 0, 1, Range{0.6, 0.6}}}},
	{name: "crop", kind: stepCrop, doc: "random resized crop (alias resized-crop)", params: []paramSyntax{
		{"area (share)", true, 0.001, 1, Range{0.08, 1}},
		{"aspect ratio (log-uniform)", true, 0.01, 100, Range{1, 1}},
	}},
}

// primitiveAliases are other accepted names of primitives.
var primitiveAliases = map[string]string{"resized-crop": "crop", "gray": "grayscale", "greyscale": "grayscale"}

// PrimitivesHelp describes the syntax of augmentation strings, for --help.
func PrimitivesHelp() string {
	var b strings.Builder
	b.WriteString(`An augmentation is A, B, C, none, or comma-separated steps name:param:...
(a range lo-hi is drawn from uniformly; a number is fixed; omitted parameters
take their defaults), each optionally followed by @p to apply it with
probability p; parentheses group steps, as in
"pad:24,rotate,(affine,perspective)@0.7,crop:0.2-0.6". Geometric steps compose
into one transform per view; colour steps then run on the pixels, in order.
Steps, with their parameters in order and their defaults:
`)
	for _, p := range primitives {
		fmt.Fprintf(&b, "  %-11s %s", p.name, p.doc)
		for i, param := range p.params {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			if i < p.required {
				fmt.Fprintf(&b, "%s%s (required)", sep, param.name)
			} else {
				fmt.Fprintf(&b, "%s%s %s", sep, param.name, formatRange(param.def))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("The augmentations of the specification:\n")
	for _, n := range namedAugmentations {
		if n.definition != "" {
			fmt.Fprintf(&b, "  %s = %s\n", n.name, n.definition)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// ParseAugmentation parses an augmentation: one of the names "A", "B", "C"
// and "none", or a pipeline of primitives such as
// "pad:24,rotate,crop:0.2-0.6". See PrimitivesHelp for the syntax. Errors
// wrap ErrBadAugmentation. The result is a *Pipeline.
func ParseAugmentation(s string) (Augmentation, error) {
	text := strings.TrimSpace(s)
	for _, n := range namedAugmentations {
		if strings.EqualFold(text, n.name) {
			p, err := parsePipeline(n.definition)
			if err != nil {
				panic("dataset: bad definition of augmentation " + n.name + ": " + err.Error())
			}
			p.name = n.name
			return p, nil
		}
	}
	if text == "" {
		return nil, fmt.Errorf("%w: empty augmentation (want A, B, C, none, or primitives such as %q)", ErrBadAugmentation, "pad:24,rotate,crop:0.2-0.6")
	}
	p, err := parsePipeline(text)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrBadAugmentation, s, err)
	}
	return p, nil
}

func parsePipeline(text string) (*Pipeline, error) {
	steps, err := parseSteps(text)
	if err != nil {
		return nil, err
	}
	return &Pipeline{steps: steps}, nil
}

// parseSteps parses comma-separated steps.
func parseSteps(text string) ([]step, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var steps []step
	for _, part := range splitTopLevel(text) {
		st, err := parseStep(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		steps = append(steps, st)
	}
	return steps, nil
}

// splitTopLevel splits text at the commas outside parentheses.
func splitTopLevel(text string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range text {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, text[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, text[start:])
}

func parseStep(text string) (step, error) {
	if text == "" {
		return step{}, fmt.Errorf("an empty step (two commas in a row?)")
	}
	p := 1.0
	if body, prob, ok := cutLastOutside(text, '@'); ok {
		v, err := strconv.ParseFloat(prob, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return step{}, fmt.Errorf("%q: the probability after @ must be a number from 0 to 1", text)
		}
		text, p = strings.TrimSpace(body), v
	}
	if strings.HasPrefix(text, "(") {
		if !strings.HasSuffix(text, ")") || strings.Count(text, "(") != strings.Count(text, ")") {
			return step{}, fmt.Errorf("%q: unbalanced parentheses", text)
		}
		group, err := parseSteps(text[1 : len(text)-1])
		if err != nil {
			return step{}, err
		}
		if len(group) == 0 {
			return step{}, fmt.Errorf("%q: an empty group", text)
		}
		return step{kind: stepGroup, p: p, group: group}, nil
	}
	if strings.ContainsAny(text, "()") {
		return step{}, fmt.Errorf("%q: unbalanced parentheses", text)
	}
	name, args, _ := strings.Cut(text, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if alias, ok := primitiveAliases[name]; ok {
		name = alias
	}
	syntax, ok := findPrimitive(name)
	if !ok {
		return step{}, fmt.Errorf("unknown step %q (want one of %s)", name, primitiveNames())
	}
	var fields []string
	if args != "" {
		fields = strings.Split(args, ":")
	}
	if len(fields) > len(syntax.params) {
		return step{}, fmt.Errorf("%s takes at most %d parameters, got %d in %q", name, len(syntax.params), len(fields), text)
	}
	if len(fields) < syntax.required {
		return step{}, fmt.Errorf("%s needs its %s, as in %s:24", name, syntax.params[0].name, name)
	}
	st := step{kind: syntax.kind, p: p}
	for i, param := range syntax.params {
		r := param.def
		if i < len(fields) {
			var err error
			if r, err = parseParam(param, fields[i]); err != nil {
				return step{}, fmt.Errorf("%s: %v", name, err)
			}
		}
		st.ranges[i] = r
	}
	st.value = st.ranges[0].Lo
	return st, nil
}

// cutLastOutside cuts text at the last sep outside parentheses.
func cutLastOutside(text string, sep byte) (before, after string, found bool) {
	depth := 0
	for i := len(text) - 1; i >= 0; i-- {
		switch text[i] {
		case ')':
			depth++
		case '(':
			depth--
		case sep:
			if depth == 0 {
				return text[:i], text[i+1:], true
			}
		}
	}
	return text, "", false
}

func findPrimitive(name string) (primitiveSyntax, bool) {
	for _, p := range primitives {
		if p.name == name {
			return p, true
		}
	}
	return primitiveSyntax{}, false
}

func primitiveNames() string {
	names := make([]string, len(primitives))
	for i, p := range primitives {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

// parseParam parses a number, or a range lo-hi if the parameter takes one.
func parseParam(param paramSyntax, text string) (Range, error) {
	text = strings.TrimSpace(text)
	r, err := parseRange(text)
	if err != nil || (!param.isRange && r.Lo != r.Hi) {
		want := "a number"
		if param.isRange {
			want = "a number or a range lo-hi"
		}
		return Range{}, fmt.Errorf("the %s must be %s, got %q", param.name, want, text)
	}
	if r.Lo > r.Hi {
		return Range{}, fmt.Errorf("the %s range %q goes from high to low", param.name, text)
	}
	if r.Lo < param.lo || r.Hi > param.hi {
		return Range{}, fmt.Errorf("the %s %q is outside %s", param.name, text, formatRange(Range{param.lo, param.hi}))
	}
	return r, nil
}

// parseRange parses "v" as v-v, or "lo-hi" where either may be negative
// ("-0.5-0.5").
func parseRange(text string) (Range, error) {
	if v, err := strconv.ParseFloat(text, 64); err == nil {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Range{}, fmt.Errorf("not finite")
		}
		return Range{v, v}, nil
	}
	for i := 1; i < len(text); i++ {
		if text[i] != '-' {
			continue
		}
		lo, err1 := strconv.ParseFloat(text[:i], 64)
		hi, err2 := strconv.ParseFloat(text[i+1:], 64)
		if err1 == nil && err2 == nil && !math.IsNaN(lo) && !math.IsNaN(hi) && !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
			return Range{lo, hi}, nil
		}
	}
	return Range{}, fmt.Errorf("not a number or range")
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func formatRange(r Range) string {
	if r.Lo == r.Hi {
		return formatNumber(r.Lo)
	}
	return formatNumber(r.Lo) + "-" + formatNumber(r.Hi)
}

// String returns the name of a named augmentation, otherwise its
// definition.
func (p *Pipeline) String() string {
	if p.name != "" {
		return p.name
	}
	return p.Definition()
}

// Definition returns the pipeline in primitives with every parameter
// written out, such as "pad:24,rotate:0-360,crop:0.2-0.6:1" for B.
func (p *Pipeline) Definition() string { return formatSteps(p.steps) }

func formatSteps(steps []step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		var b strings.Builder
		if st.kind == stepGroup {
			b.WriteString("(" + formatSteps(st.group) + ")")
		} else {
			syntax := primitives[syntaxIndex(st.kind)]
			b.WriteString(syntax.name)
			for j := range syntax.params {
				b.WriteString(":" + formatRange(st.ranges[j]))
			}
		}
		if st.p != 1 {
			b.WriteString("@" + formatNumber(st.p))
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

func syntaxIndex(k stepKind) int {
	for i, p := range primitives {
		if p.kind == k {
			return i
		}
	}
	panic(fmt.Sprintf("dataset: no primitive of kind %d", k))
}

// Apply returns an augmented copy of src. See ApplyInto.
func (p *Pipeline) Apply(src *image.RGBA, rng *rand.Rand) *image.RGBA {
	dst := image.NewRGBA(src.Rect)
	p.ApplyInto(dst, src, rng)
	return dst
}

// maxColourOps is the number of colour operations a sample holds without
// allocating.
const maxColourOps = 16

// ApplyInto writes an augmented view of src into dst, which must have the
// size of src and must not share pixels with it. It does not allocate for
// pipelines of up to 16 colour operations, so a training loop can reuse
// dst. It panics if the sizes differ.
func (p *Pipeline) ApplyInto(dst, src *image.RGBA, rng *rand.Rand) {
	if dst.Rect.Dx() != src.Rect.Dx() || dst.Rect.Dy() != src.Rect.Dy() {
		panic(fmt.Sprintf("dataset: ApplyInto from %v into %v", src.Rect.Size(), dst.Rect.Size()))
	}
	c := newCanvas(src.Rect.Dx(), src.Rect.Dy())
	var buf [maxColourOps]colourOp
	ops := sampleSteps(p.steps, &c, buf[:0], rng)
	if c.moved {
		c.warp(dst, src)
	} else {
		copyPixels(dst, src)
	}
	if len(ops) > 0 {
		applyColours(dst, ops)
	}
}

// sampleSteps draws the parameters of steps for one sample: geometric steps
// go into c, colour operations are appended to ops.
func sampleSteps(steps []step, c *canvas, ops []colourOp, rng *rand.Rand) []colourOp {
	for i := range steps {
		st := &steps[i]
		if st.p < 1 && rng.Float64() >= st.p {
			continue
		}
		r := &st.ranges
		switch st.kind {
		case stepGroup:
			ops = sampleSteps(st.group, c, ops, rng)
		case stepGrayscale:
			ops = append(ops, colourOp{kind: opGrayscale})
		case stepJitter:
			ops = append(ops,
				colourOp{kind: opBrightness, factor: uniform(rng, r[0])},
				colourOp{kind: opContrast, factor: uniform(rng, r[1])},
				colourOp{kind: opSaturation, factor: uniform(rng, r[2])},
				colourOp{kind: opHue, factor: uniform(rng, r[3])})
		case stepBrightness:
			ops = append(ops, colourOp{kind: opBrightness, factor: uniform(rng, r[0])})
		case stepContrast:
			ops = append(ops, colourOp{kind: opContrast, factor: uniform(rng, r[0])})
		case stepSaturation:
			ops = append(ops, colourOp{kind: opSaturation, factor: uniform(rng, r[0])})
		case stepHue:
			ops = append(ops, colourOp{kind: opHue, factor: uniform(rng, r[0])})
		case stepPad:
			c.pad(st.value)
		case stepRotate:
			c.rotate(uniform(rng, r[0]))
		case stepAffine:
			c.affine(rng, st.value, r[1])
		case stepPerspective:
			c.perspective(rng, st.value)
		case stepCrop:
			c.crop(rng, r[0], r[1])
		}
	}
	return ops
}

// copyPixels copies src into dst, of the same size.
func copyPixels(dst, src *image.RGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	for y := 0; y < h; y++ {
		copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src.Pix[y*src.Stride:y*src.Stride+4*w])
	}
}

// ApplyInto writes a view of src augmented by a into dst, without
// allocating when a is a *Pipeline; otherwise it copies a.Apply's result.
func ApplyInto(a Augmentation, dst, src *image.RGBA, rng *rand.Rand) {
	if p, ok := a.(*Pipeline); ok {
		p.ApplyInto(dst, src, rng)
		return
	}
	copyPixels(dst, a.Apply(src, rng))
}
