// Package shutdown carries, in a context, the request that work done in
// batches end after the batch at hand: the scheduler asks it of its jobs
// when passd stops, and the domain's sweeps check it between batches,
// without either knowing the other. It imports nothing of passd.
//
// It imports nothing of passd.
package shutdown
