package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofServer serves Go's profiles on the admin address of
// PASSD_PPROF_ADDR, on a mux of its own: the main router never has them,
// so opening the API to the world never opens them. /debug/pprof/cmdline
// is left out: it would show the flags, --database-url and its password
// among them.
type pprofServer struct {
	srv  *http.Server
	done chan error
}

// startPprof listens on addr and serves the profiles until shutdown.
func startPprof(addr string) (*pprofServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("passd: pprof listen %s: %w", addr, err)
	}
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
	p := &pprofServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second},
		done: make(chan error, 1)}
	go func() { p.done <- p.srv.Serve(ln) }()
	return p, nil
}

// shutdown stops the listener; a profile still being taken is cut when
// ctx ends.
func (p *pprofServer) shutdown(ctx context.Context) error {
	err := p.srv.Shutdown(ctx)
	if err != nil {
		_ = p.srv.Close()
	}
	if serveErr := <-p.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("passd: pprof shutdown: %w", err)
	}
	return nil
}
