package httpapi

import (
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Stream answers 200 with a body that write produces as it goes (exports,
// SEPA files), so that memory does not grow with the file. An error before
// the first byte is answered as any error; after it the status is already
// sent, so the connection is cut: the client sees a broken download, never
// a file that looks complete.
func Stream(c echo.Context, contentType, filename string, write func(w io.Writer) error) error {
	w := &lazyWriter{c: c, contentType: contentType, filename: filename}
	err := write(w)
	if err == nil {
		w.start()
		return nil
	}
	if !w.started {
		return err
	}
	c.Logger().Error(fmt.Errorf("stream %s: %w", filename, err))
	panic(http.ErrAbortHandler)
}

type lazyWriter struct {
	c                     echo.Context
	contentType, filename string
	started               bool
}

func (w *lazyWriter) start() {
	if w.started {
		return
	}
	w.started = true
	h := w.c.Response().Header()
	h.Set(echo.HeaderContentType, w.contentType)
	if w.filename != "" {
		h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": w.filename}))
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.c.Response().WriteHeader(http.StatusOK)
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	w.start()
	return w.c.Response().Write(p)
}
