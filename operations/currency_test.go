package operations

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/currency"
)

// TestCurrenciesAsXText: knownCurrency decides every three-letter code, in
// every letter case, and some junk, as currency.ParseISO does.
func TestCurrenciesAsXText(t *testing.T) {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var want []string
	for _, a := range letters {
		for _, b := range letters {
			for _, c := range letters {
				code := string([]rune{a, b, c})
				_, err := currency.ParseISO(code)
				if got := knownCurrency(code); got != (err == nil) {
					t.Errorf("knownCurrency(%q) = %v, x/text: %v", code, got, err)
				}
				if err == nil && code == strings.ToUpper(code) {
					want = append(want, code)
				}
			}
		}
	}
	if got := strings.Fields(isoCurrencies); !slices.Equal(got, want) {
		var src strings.Builder
		for i := 0; i < len(want); i += 20 {
			src.WriteString("\t\"" + strings.Join(want[i:min(i+20, len(want))], " ") + " \" +\n")
		}
		t.Fatalf("isoCurrencies differs from x/text's list; set it to:\n%s", strings.TrimSuffix(src.String(), " +\n"))
	}
	for _, code := range []string{"", "E", "EU", "EURO", "E1R", "€", "EU\x00", " EU", "EU ", "\xff\xfe\xfd", "XXX", "xxx"} {
		_, err := currency.ParseISO(code)
		if got := knownCurrency(code); got != (err == nil) {
			t.Errorf("knownCurrency(%q) = %v, x/text: %v", code, got, err)
		}
	}
}
