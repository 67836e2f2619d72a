package redisstore

import "time"

// startBackground starts the loop of the expiry sweep and of the removal
// of flushed and deleted data (sweep.go).
func (s *Store) startBackground() {
	if s.sweepIv < 0 {
		close(s.done)
		return
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.sweepIv)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.background()
			}
		}
	}()
}

func (s *Store) background() {}
