package redis

// SetBetween has f run between the two steps of every CreateToken on a
// cluster (the token stored, not yet indexed), for TestClusterInterleaving.
func SetBetween(s *Store, f func()) { s.between = f }
