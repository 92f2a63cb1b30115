package billing

// WaitingSubmissions is how many submissions wait for a group to commit
// theirs, in every convention.
func (s *Store) WaitingSubmissions() int { return s.submissions.Waiting() }
