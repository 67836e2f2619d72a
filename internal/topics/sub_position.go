package topics

// Position returns where the subscription stands: Seq is the next sequence
// number it delivers and Page its page. Call it from the goroutine that
// polls (right after Subscribe, it tells where the stream starts).
func (s *Subscription) Position() Position { return Position{Seq: s.next, Page: s.page} }
