package redis_test

import (
	"context"
	"log"

	goredis "github.com/redis/go-redis/v9"

	"github.com/oauthkit/oauthkit/grant"
	"github.com/oauthkit/oauthkit/store/redis"
)

// Redis, shared by every instance of the service, with the host's own
// go-redis client (redis.Open makes one from a URL instead). It needs a
// server, so it is not run here.
func ExampleNew() {
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: "redis.internal:6379"})
	defer rdb.Close()
	st, err := redis.New(ctx, rdb, redis.WithPrefix("myapp:oauthkit:"))
	if err != nil {
		log.Fatal(err) // the server did not answer a PING within the connect timeout (5 s)
	}
	p, err := grant.NewProvider(grant.Config{Issuer: "https://auth.example.com", Clients: st, Tokens: st})
	if err != nil {
		log.Fatal(err)
	}
	_ = p // mount p's handlers: p.Mount(mux, grant.Pages{})
}

// Open connects from a URL; dial_timeout and the other go-redis URL
// parameters apply.
func ExampleOpen() {
	st, err := redis.Open(context.Background(), "rediss://:password@redis.internal:6380/0?dial_timeout=3s")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
}
