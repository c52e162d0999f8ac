package simd

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The AVX-512 transforms (wino*_avx512_amd64.s) are made from the AVX2 ones
// by avx512Source, so that both run the same operations in the same order
// (and give the same bits), 16 channels at a time instead of 8. After a
// change to an AVX2 file, regenerate them with
//
//	go test ./encoder/internal/simd -run TestAVX512Sources -update
//
// TestAVX512Sources fails while a generated file differs from what its
// source makes.

var update = flag.Bool("update", false, "rewrite the generated AVX-512 transforms")

// avx512Sources maps each AVX2 source to the file made from it.
var avx512Sources = map[string]string{
	"wino_amd64.h":   "wino_avx512_amd64.h",
	"wino_amd64.s":   "wino_avx512_amd64.s",
	"wino22_amd64.s": "wino22_avx512_amd64.s",
	"wino42_amd64.s": "wino42_avx512_amd64.s",
	"wino43_amd64.s": "wino43_avx512_amd64.s",
}

var (
	reYMM      = regexp.MustCompile(`\bY([0-9]+)\b`)
	reAllOnes  = regexp.MustCompile(`VPCMPEQD (Z[0-9]+), (Z[0-9]+), (Z[0-9]+)`)
	reFrameOff = regexp.MustCompile(`\b([0-9]+)\(SP\)`)
	reFrame    = regexp.MustCompile(`\$([0-9]+)-([0-9]+)`)
	reFrameArg = regexp.MustCompile(`\bFRAME[0-9]\(([0-9, ]+)\)`)
	reName8    = regexp.MustCompile(`\b(wino[0-9]*(?:In|Out|InAdj|OutAdj))8\b`)
	reName8Lbl = regexp.MustCompile(`\b(wino[0-9]*(?:In|Out|InAdj|OutAdj))8_`)
)

// avx512Source turns an AVX2 transform file into its AVX-512 twin: the
// ymm registers become zmm, the byte steps over channels (the groups'
// 32 bytes) and the stack frame double, and the three instructions
// without an AVX-512F form of the same meaning are replaced: VPCMPEQD
// (which writes a mask register there) by VPTERNLOGD, and VXORPS (AVX-512DQ)
// by VPXORD, both giving the same bits.
func avx512Source(name string, src []byte) ([]byte, error) {
	s := string(src)
	s = reYMM.ReplaceAllString(s, "Z$1")
	s = reAllOnes.ReplaceAllString(s, "VPTERNLOGD $$0xff, $1, $2, $3")
	s = regexp.MustCompile(`\bVXORPS\b`).ReplaceAllString(s, "VPXORD")
	s = reFrameOff.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(reFrameOff.FindStringSubmatch(m)[1])
		return fmt.Sprintf("%d(SP)", 2*n)
	})
	// The FRAMEn macros take offsets into the frame.
	s = reFrameArg.ReplaceAllStringFunc(s, func(m string) string {
		g := reFrameArg.FindStringSubmatch(m)
		var out []string
		for _, a := range strings.Split(g[1], ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(a))
			out = append(out, strconv.Itoa(2*n))
		}
		return m[:strings.Index(m, "(")+1] + strings.Join(out, ", ") + ")"
	})
	s = reFrame.ReplaceAllStringFunc(s, func(m string) string {
		g := reFrame.FindStringSubmatch(m)
		n, _ := strconv.Atoi(g[1])
		return fmt.Sprintf("$%d-%s", 2*n, g[2])
	})
	s = reName8.ReplaceAllString(s, "${1}16")
	s = reName8Lbl.ReplaceAllString(s, "${1}16_")
	s = strings.ReplaceAll(s, `#include "wino_amd64.h"`, `#include "wino_avx512_amd64.h"`)
	s = strings.ReplaceAll(s, "8 channels", "16 channels")
	s = strings.ReplaceAll(s, "8-channel", "16-channel")
	if name == "wino_amd64.h" {
		for _, r := range [][2]string{
			{"#define GROUPS SHLQ $5, R13", "#define GROUPS SHLQ $6, R13"},
			{"#define NEXT(label) ADDQ $32, CX", "#define NEXT(label) ADDQ $64, CX"},
		} {
			if !strings.Contains(s, r[0]) {
				return nil, fmt.Errorf("%s: no %q", name, r[0])
			}
			s = strings.ReplaceAll(s, r[0], r[1])
		}
	}
	for _, left := range []string{"Y", "VPCMPEQD", "VXORPS"} {
		if regexp.MustCompile(`\b` + left + `[0-9]*\b`).MatchString(stripComments(s)) {
			return nil, fmt.Errorf("%s: %s left after the conversion", name, left)
		}
	}
	head := fmt.Sprintf("// Code generated from %s by avx512gen_test.go (go test -run TestAVX512Sources -update); DO NOT EDIT.\n// The same operations 16 channels at a time, in zmm registers.\n\n", name)
	return []byte(head + s), nil
}

// stripComments drops the // comments of assembly source.
func stripComments(s string) string {
	return regexp.MustCompile(`//[^\n]*`).ReplaceAllString(s, "")
}

func TestAVX512Sources(t *testing.T) {
	for src, dst := range avx512Sources {
		in, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := avx512Source(src, in)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(dst, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatalf("%v (go test -run TestAVX512Sources -update makes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what %s makes: run go test ./encoder/internal/simd -run TestAVX512Sources -update", dst, src)
		}
	}
}
