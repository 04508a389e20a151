package memory

import (
	"slices"
	"strings"

	"github.com/oauthkit/oauthkit/store"
)

// meta is what many tokens share: the client, the user, the scopes, and for
// codes their bindings. Each shard keeps one copy per distinct combination,
// counted, so that a token slot needs only its index.
type meta struct {
	clientID, subject, username string
	scopes                      []string
	redirectURI, codeChallenge  string
	refs                        int
}

type metaKey struct {
	clientID, subject, username, scopes, redirectURI, codeChallenge string
}

// metaTable is a shard's interned metas; it lives under the shard's lock.
type metaTable struct {
	metas  []meta
	byKey  map[metaKey]uint32
	unused []uint32
	last   uint32 // the meta interned most recently
}

func (mt *metaTable) init() { mt.byKey = make(map[metaKey]uint32) }

// intern returns the index of t's meta, adding it if new, and counts one
// more user of it.
func (mt *metaTable) intern(t *store.Token) uint32 {
	// Tokens come in runs from the same client and user: try the last
	// meta first, which spares building the key.
	if i := mt.last; int(i) < len(mt.metas) && mt.metas[i].refs > 0 && mt.metas[i].matches(t) {
		mt.metas[i].refs++
		return i
	}
	k := metaKey{t.ClientID, t.Subject, t.Username, strings.Join(t.Scopes, "\x00"), t.RedirectURI, t.CodeChallenge}
	if i, ok := mt.byKey[k]; ok {
		mt.metas[i].refs++
		return i
	}
	m := meta{
		clientID: t.ClientID, subject: t.Subject, username: t.Username, scopes: clip(t.Scopes),
		redirectURI: t.RedirectURI, codeChallenge: t.CodeChallenge, refs: 1,
	}
	var i uint32
	if n := len(mt.unused); n > 0 {
		i, mt.unused = mt.unused[n-1], mt.unused[:n-1]
		mt.metas[i] = m
	} else {
		i = uint32(len(mt.metas))
		mt.metas = append(mt.metas, m)
	}
	mt.byKey[k] = i
	mt.last = i
	return i
}

func (m *meta) matches(t *store.Token) bool {
	return m.clientID == t.ClientID && m.subject == t.Subject && m.username == t.Username &&
		m.redirectURI == t.RedirectURI && m.codeChallenge == t.CodeChallenge && slices.Equal(m.scopes, t.Scopes)
}

// release counts one user fewer of meta i, dropping it with its last.
func (mt *metaTable) release(i uint32) {
	m := &mt.metas[i]
	if m.refs--; m.refs > 0 {
		return
	}
	delete(mt.byKey, metaKey{m.clientID, m.subject, m.username, strings.Join(m.scopes, "\x00"), m.redirectURI, m.codeChallenge})
	*m = meta{}
	mt.unused = append(mt.unused, i)
}

// clientMetas marks, by meta index in match (buf, resized and cleared), the
// metas in use that belong to the client. found says whether any does.
func (mt *metaTable) clientMetas(clientID string, buf []bool) (match []bool, found bool) {
	match = slices.Grow(buf[:0], len(mt.metas))[:len(mt.metas)]
	clear(match)
	for i := range mt.metas {
		if m := &mt.metas[i]; m.refs > 0 && m.clientID == clientID {
			match[i], found = true, true
		}
	}
	return match, found
}
