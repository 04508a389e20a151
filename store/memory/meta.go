package memory

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"time"

	"github.com/oauthkit/oauthkit/store"
)

// meta is what many tokens share: the client, the user, the scopes, the
// grant's properties (audience, DPoP key, auth_time), and for codes their
// bindings. Each shard keeps one copy per distinct combination, counted, so
// that a token slot needs only its index.
type meta struct {
	clientID, subject, username string
	scopes, audience            []string
	jkt                         string
	authTime                    int64 // unix nanoseconds; 0 when unknown
	redirectURI, codeChallenge  string
	nonce                       string
	refs                        int
}

// metaTable is a shard's interned metas; it lives under the shard's lock.
// Metas are found by a seeded hash of their fields, and told apart by
// comparing the fields: a meta whose hash is taken by another (a collision,
// about one in 2^64) is kept but not indexed, so it is merely not shared.
type metaTable struct {
	metas  []meta
	seed   maphash.Seed
	byHash map[uint64]uint32 // hash of a meta's fields -> its index
	unused []uint32
	last   uint32 // the meta interned most recently
}

func (mt *metaTable) init() {
	mt.seed = maphash.MakeSeed()
	mt.byHash = make(map[uint64]uint32)
}

// intern returns the index of t's meta, adding it if new, and counts one
// more user of it.
func (mt *metaTable) intern(t *store.Token) uint32 {
	m := meta{
		clientID: t.ClientID, subject: t.Subject, username: t.Username, scopes: t.Scopes,
		audience: t.Audience, jkt: t.JKT, authTime: nanos(t.AuthTime),
		redirectURI: t.RedirectURI, codeChallenge: t.CodeChallenge, nonce: t.Nonce, refs: 1,
	}
	// Tokens come in runs from the same client and user: try the last
	// meta first, which spares the hash.
	if i := mt.last; int(i) < len(mt.metas) && mt.metas[i].refs > 0 && mt.metas[i].same(&m) {
		mt.metas[i].refs++
		return i
	}
	h := m.hash(mt.seed)
	i, indexed := mt.byHash[h]
	if indexed && mt.metas[i].same(&m) {
		mt.metas[i].refs++
		mt.last = i
		return i
	}
	m.scopes, m.audience = clip(t.Scopes), clip(t.Audience) // the caller's slices stay the caller's
	if n := len(mt.unused); n > 0 {
		i, mt.unused = mt.unused[n-1], mt.unused[:n-1]
		mt.metas[i] = m
	} else {
		i = uint32(len(mt.metas))
		mt.metas = append(mt.metas, m)
	}
	if !indexed {
		mt.byHash[h] = i
	}
	mt.last = i
	return i
}

// same reports whether m and o hold the same fields (refs aside).
func (m *meta) same(o *meta) bool {
	return m.clientID == o.clientID && m.subject == o.subject && m.username == o.username &&
		m.redirectURI == o.redirectURI && m.codeChallenge == o.codeChallenge && m.nonce == o.nonce &&
		m.jkt == o.jkt && m.authTime == o.authTime &&
		slices.Equal(m.scopes, o.scopes) && slices.Equal(m.audience, o.audience)
}

// hash returns the seeded hash of m's fields. Every string is written with
// its length, so that no two different metas hash alike but by chance.
func (m *meta) hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var n [8]byte
	str := func(s string) {
		h.Write(binary.LittleEndian.AppendUint64(n[:0], uint64(len(s))))
		h.WriteString(s)
	}
	list := func(l []string) {
		h.Write(binary.LittleEndian.AppendUint64(n[:0], uint64(len(l))))
		for _, s := range l {
			str(s)
		}
	}
	str(m.clientID)
	str(m.subject)
	str(m.username)
	list(m.scopes)
	list(m.audience)
	str(m.jkt)
	h.Write(binary.LittleEndian.AppendUint64(n[:0], uint64(m.authTime)))
	str(m.redirectURI)
	str(m.codeChallenge)
	str(m.nonce)
	return h.Sum64()
}

// release counts one user fewer of meta i, dropping it with its last.
func (mt *metaTable) release(i uint32) {
	m := &mt.metas[i]
	if m.refs--; m.refs > 0 {
		return
	}
	if h := m.hash(mt.seed); mt.byHash[h] == i {
		delete(mt.byHash, h) // only if it is this meta's entry, not a collider's
	}
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

// nanos returns t in unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
