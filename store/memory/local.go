package memory

import "github.com/oauthkit/oauthkit/store"

var _ store.Local = (*Store)(nil)

// Local implements store.Local: a memory store never waits on anything
// but its own short locks.
func (*Store) Local() {}
