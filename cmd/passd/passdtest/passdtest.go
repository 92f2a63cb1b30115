package passdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The binary is built at most once per test binary, and shared by its
// tests.
var built struct {
	once      sync.Once
	dir, path string
	err       error
}

// Main runs the tests, removes the binary Binary built, and exits. A
// package whose tests call Binary calls it from its TestMain:
//
//	func TestMain(m *testing.M) { passdtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// Binary returns the path of passd built from this module's cmd/passd. It
// is built with the race detector when the tests are, so that the build
// reuses the packages go test has just compiled and the processes are
// checked for races too.
func Binary(t testing.TB) string {
	t.Helper()
	b := &built
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "passd-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "passd")
		// go test puts its own GOROOT/bin first in the PATH of a test.
		goTool, err := exec.LookPath("go")
		if err != nil {
			b.err = err
			return
		}
		args := []string{"build", "-o", b.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		// By import path: the working directory is the testing package's.
		out, err := exec.Command(goTool, append(args, "passd/cmd/passd")...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatalf("passdtest: build passd: %v", b.err)
	}
	return b.path
}
