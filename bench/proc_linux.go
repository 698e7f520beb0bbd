package main

import "syscall"

// childAttr makes the kernel kill a server process (SIGKILL) when the
// benchmark process dies, however it dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
