package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// asideServer is a listener of its own beside the main address, for an
// operator: the profiles (PASSD_PPROF_ADDR), the metrics with their money
// series (PASSD_METRICS_ADDR). What it serves is never on the main router,
// so opening the API to the world never opens it.
type asideServer struct {
	name string
	srv  *http.Server
	done chan error
}

// listenAside listens on addr and serves handler until shutdown. A zero
// writeTimeout means none.
func listenAside(name, addr string, handler http.Handler, writeTimeout time.Duration) (*asideServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("passd: %s listen %s: %w", name, addr, err)
	}
	s := &asideServer{name: name, done: make(chan error, 1), srv: &http.Server{Handler: handler,
		ReadHeaderTimeout: 10 * time.Second, WriteTimeout: writeTimeout, IdleTimeout: 120 * time.Second}}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// shutdown stops the listener; an answer still being written is cut when
// ctx ends.
func (s *asideServer) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	if err != nil {
		return fmt.Errorf("passd: %s shutdown: %w", s.name, err)
	}
	return nil
}
