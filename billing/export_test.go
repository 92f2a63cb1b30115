package billing

// WaitingSubmissions is how many submissions wait for a group to commit
// theirs, in every convention.
func (s *Store) WaitingSubmissions() int {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	n := 0
	for _, t := range s.groups.tenants {
		n += len(t.waiting)
	}
	return n
}
