//go:build race

package passdtest

// raceEnabled says the tests run with the race detector.
const raceEnabled = true
