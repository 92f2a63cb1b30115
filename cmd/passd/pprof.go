package main

import (
	"net/http"
	"net/http/pprof"
)

// startPprof serves Go's profiles on the admin address of
// PASSD_PPROF_ADDR, on a mux of its own (asideServer).
// /debug/pprof/cmdline is left out: it would show the flags,
// --database-url and its password among them.
func startPprof(addr string) (*asideServer, error) {
	mux := http.NewServeMux()
	// Index serves the named profiles (heap, goroutine, allocs, block,
	// mutex, threadcreate) under /debug/pprof/NAME as well.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/cmdline", http.NotFound)
	// No write timeout: a CPU profile or a trace lasts as long as its
	// ?seconds= asks.
	return listenAside("pprof", addr, mux, 0)
}
