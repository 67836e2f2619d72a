//go:build !linux

package testnode

import "syscall"

// Stop sends SIGSTOP; off Linux it does not wait for the stop to happen.
func (p *Proc) Stop() error {
	p.Signal(syscall.SIGSTOP)
	return nil
}
