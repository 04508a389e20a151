package middleware

import (
	"testing"
	"time"
)

// FuzzParseJWT feeds arbitrary tokens to the JWT parser and claim checks:
// they must never panic, and whatever they accept must be well-formed.
func FuzzParseJWT(f *testing.F) {
	f.Add("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJpc3MiOiJodHRwczovL2FzIiwic3ViIjoiMSIsImF1ZCI6WyJhcGkiXSwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjEsImp0aSI6IngiLCJjbGllbnRfaWQiOiJhcHAifQ.c2ln")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, raw string) {
		j, err := parseJWT(raw, []string{algEdDSA, algES256, algRS256})
		if err != nil {
			return
		}
		if j.input == "" || len(j.input) >= len(raw) {
			t.Fatalf("signing input %q of %q", j.input, raw)
		}
		tok, err := j.claims.check("https://as", "api", time.Unix(1000, 0), time.Minute)
		if err == nil && (tok.ClientID == "" || tok.ID == "" || tok.ExpiresAt.IsZero()) {
			t.Fatalf("accepted claims without required values: %+v", tok)
		}
		_ = j.verify(publicKey{alg: j.alg})
	})
}
