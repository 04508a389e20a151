package grant_test

import (
	"log"
	"net/http"
	"time"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/middleware"
	"github.com/oauthkit/oauthkit/store/memory"
)

// ExampleValidationCache puts a validation cache in front of the token
// store, as every instance sharing PostgreSQL or Redis would (the memory
// store stands for them here: it announces its revocations in process). A
// revocation made by any instance is refused by every cache within Bound.
func ExampleValidationCache() {
	st := memory.New() // postgres.Open(ctx, dsn) or redis.Open(ctx, url) on several instances
	p, err := grant.NewProvider(grant.Config{
		Issuer:  "https://auth.example.com",
		Clients: st, Tokens: st,
		ValidationCache: grant.ValidationCache{
			Enabled: true,
			Bound:   500 * time.Millisecond, // default 1 s
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close() // stops the cache's subscription and heartbeats

	mux := http.NewServeMux()
	mux.Handle("POST /oauth/token", p.TokenHandler())
	mux.Handle("POST /oauth/revoke", p.RevokeHandler())
	mux.Handle("GET /api/data", middleware.RequireOAuth(p, "read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("protected"))
	})))
	// http.ListenAndServe(":8080", mux)

	if s, ok := p.ValidationCacheStats(); ok {
		log.Printf("validation cache: %d hits, %d misses, serving %v", s.Hits, s.Misses, s.Serving)
	}
}
