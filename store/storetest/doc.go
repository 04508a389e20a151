// Package storetest is the conformance suite every oauthkit store runs: the
// memory, SQLite, PostgreSQL and Redis backends, and any third-party one.
//
// A backend's test calls [Run] with a function that returns a new, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			s, err := mystore.Open(t.Context(), t.TempDir()+"/db")
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite checks the contract written on [store.TokenStore] and
// [store.ClientRegistry]: create and get, ErrExists and ErrNotFound, expiry,
// atomic single-use consumption under concurrency, single-token, family and
// client revocation, refresh-token rotation with reuse detection, context
// cancellation, and ten thousand tokens in one store (2,500 under the race
// detector, which slows pure-Go database engines tenfold). It round-trips
// every field of a Token (audience, DPoP thumbprint, nonce and auth_time
// included, through Token, ConsumeToken and ErrConsumed's copy) and of a
// Client (through CreateClient, Client, Clients and UpdateClient), and checks
// that CreateClient and UpdateClient refuse, with [store.Client.Validate]'s
// RFC 7591 error code, what Validate refuses, storing nothing. If the store
// also implements [Dumper], the suite checks that no raw token reaches it; if
// it implements the optional [store.AttemptCounter] (shared throttling), the
// suite checks that too ([RunAttemptCounter]: bursts, refill, refunds,
// resets, atomic reservations under concurrency); if it implements the
// optional [store.ReplayCache] (one-time values), the suite checks that
// ([RunReplayCache]: first use and replays, opaque binary keys, exactly one
// first use among concurrent ones, keys forgotten after their time, context
// cancellation); if it implements the optional [store.DeviceStore] (device
// authorization grants), the suite checks that too ([RunDeviceStore]:
// lookups by user code, expiry, codes never taken twice, slow_down, one
// answer and one redemption under concurrency); if it implements the
// optional [store.Exchanger] (consume and issue in one transaction), the
// suite checks that too ([RunExchanger]: all or nothing, the old token left
// live when a new one cannot be created, one winner among racing
// exchanges); if it implements [store.Pinger], that Ping answers nil, and
// the context's error once it is canceled; if it implements the optional
// [store.ChangeFeed] (revocations announced to every instance), the suite
// checks that too ([RunChangeFeed]: each revocation announced, after its
// commit, and marks after every change committed before them).
//
// What the suite accepts as equal: a nil slice and an empty one (a store may
// return either), two times less than a millisecond apart (a store may keep
// milliseconds or microseconds, in any location), two AuthTimes less than a
// second apart (zero only equals zero), and two JWKS that are the same JSON
// once compacted. Everything else must round-trip exactly; the comparison
// covers fields added to Token and Client later without being told.
//
// A backend that reports its calls to a [store.Observer] (its WithObserver
// option) calls [RunObserver] too: every method of every capability it has
// must report itself once, with its error and a duration no longer than the
// call.
//
// [Bench] holds the benchmarks every backend reports: CreateToken and Token
// (the lookup a resource server makes) under parallel load.
package storetest
