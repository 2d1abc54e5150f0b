package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $LAKEHUNT_CPUPROFILE when set (for benchmarks and bug reports).
func startProfile() func() {
	path := os.Getenv("LAKEHUNT_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	_ = pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}
