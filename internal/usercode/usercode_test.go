package usercode

import (
	"math"
	"strings"
	"testing"
)

func TestNewAlphabetAndLength(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 4000
	for range n {
		c, err := New()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != Length || strings.Trim(c, Alphabet) != "" {
			t.Fatalf("New() = %q: want %d characters of %s", c, Length, Alphabet)
		}
		if seen[c] {
			t.Fatalf("New() repeated %q within %d codes", c, n)
		}
		seen[c] = true
		for _, r := range c {
			counts[r]++
		}
	}
	// Every character appears, none far more often than the others: no
	// modulo bias. Each is expected n·Length/20 = 1600 times; 1300–1900 is
	// more than seven standard deviations either way.
	for _, r := range Alphabet {
		if c := counts[r]; c < 1300 || c > 1900 {
			t.Errorf("%c appeared %d times in %d characters, want about %d", r, c, n*Length, n*Length/len(Alphabet))
		}
	}
}

// TestEntropy states the size of the code space that SECURITY.md reckons
// with.
func TestEntropy(t *testing.T) {
	if got := Space(); got != math.Pow(20, 8) {
		t.Fatalf("Space() = %v, want 20^8", got)
	}
	if bits := math.Log2(Space()); bits < 34.5 || bits > 34.6 {
		t.Fatalf("entropy %.2f bits, want 34.58", bits)
	}
}

func TestFormatNormalize(t *testing.T) {
	if got := Format("WDJBMJHT"); got != "WDJB-MJHT" {
		t.Fatalf("Format = %q", got)
	}
	for in, want := range map[string]string{
		"WDJB-MJHT":      "WDJBMJHT",
		"wdjb-mjht":      "WDJBMJHT",
		"wdjbmjht":       "WDJBMJHT",
		" WDJB MJHT ":    "WDJBMJHT",
		"wd.jb–mj_ht\t":  "WDJBMJHT", // punctuation, an en dash, a tab
		"WDJBA-MJHT":     "WDJBMJHT", // a vowel is outside the set: dropped (RFC 8628 §6.1)
		"WDJB-MJHT-0":    "WDJBMJHT", // so is a digit
		"ẄDJB-MJHT":      "",         // a letter with a diaeresis is not W
		"WDJB-MJH":       "",         // too short
		"WDJB-MJHTB":     "",         // too long
		"":               "",
		"ﬀ-WDJB-MJHT":    "WDJBMJHT", // a ligature is dropped, not case-mapped
		"ǆWDJB-MJHT":     "WDJBMJHT",
		"\u0130WDJBMJHT": "WDJBMJHT", // Turkish dotted I
	} {
		got, ok := Normalize(in)
		if got != want || ok != (want != "") {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := Normalize(strings.Repeat("B", MaxInput+1)); ok {
		t.Error("an input longer than MaxInput was accepted")
	}
}

// FuzzNormalize: any input normalises to nothing or to a valid code, and
// valid codes survive formatting and lower case.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"WDJB-MJHT", "wdjb mjht", "", "AEIOU", "bcdf-ghjk-lm", "\xff\xfe", "Ｗｄｊｂ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, ok := Normalize(in)
		if !ok {
			if c != "" {
				t.Fatalf("Normalize(%q) = %q but not ok", in, c)
			}
			return
		}
		if len(c) != Length || strings.Trim(c, Alphabet) != "" {
			t.Fatalf("Normalize(%q) = %q: not a code", in, c)
		}
		for _, form := range []string{Format(c), strings.ToLower(Format(c)), c} {
			if again, ok := Normalize(form); !ok || again != c {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", form, again, ok, c)
			}
		}
	})
}
