package store

// Local is an optional capability of a store that keeps everything in the
// process and never waits on a network, a disk or another process (the
// memory backend). A caller that bounds every store call with a deadline
// and a limit on calls in flight (grant.Config.Store) calls a Local store
// directly: it cannot hang, and the deadline would cost more than the call.
// Detected by type assertion.
type Local interface {
	// Local does nothing: having it is the capability.
	Local()
}
