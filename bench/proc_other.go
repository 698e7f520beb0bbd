//go:build !linux

package main

import "syscall"

// childAttr: no parent-death signal outside Linux; the deferred stop and
// the signal handler still end the servers.
func childAttr() *syscall.SysProcAttr { return nil }
