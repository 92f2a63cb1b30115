package shutdown

import "context"

type key struct{}

// WithStop returns ctx carrying stopping: once it is closed, Requested is
// true. ctx itself is not cancelled, so that no transaction is cut.
func WithStop(ctx context.Context, stopping <-chan struct{}) context.Context {
	return context.WithValue(ctx, key{}, stopping)
}

// Requested reports whether the work running under ctx has been asked to
// stop after the batch at hand. Outside such work it is false.
func Requested(ctx context.Context) bool {
	stopping, ok := ctx.Value(key{}).(<-chan struct{})
	if !ok {
		return false
	}
	select {
	case <-stopping:
		return true
	default:
		return false
	}
}
