//go:build linux

package testnode

import (
	"syscall"
	"unsafe"
)

// Stop stops the process with SIGSTOP and returns once it is stopped (the
// signal itself is asynchronous): waitid(WSTOPPED|WNOWAIT) leaves the stop
// to be reaped by no one, and exec's Wait ignores stops.
func (p *Proc) Stop() error {
	p.Signal(syscall.SIGSTOP)
	const (
		pPID    = 1
		wStoped = 0x2
		wNoWait = 0x1000000
	)
	var info [128]byte
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(p.Pid()), uintptr(unsafe.Pointer(&info[0])), wStoped|wNoWait, 0, 0)
		if e != syscall.EINTR {
			if e != 0 {
				return e
			}
			return nil
		}
	}
}
