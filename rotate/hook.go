package rotate

import (
	"context"
	"log/slog"
	"os/exec"
	"strings"
)

// runHook starts the OnClose command for path in the background; Close
// waits for it. Its output is logged only when it fails, trimmed.
// TODO(hook): commands are not limited in number; a slow command with
// frequent rotation piles them up. A semaphore, with a Warn when full,
// would bound them.
func (r *Rotator) runHook(path string) {
	if len(r.cfg.OnClose) == 0 {
		return
	}
	args := append(append([]string(nil), r.cfg.OnClose[1:]...), path)
	cmd := exec.CommandContext(context.Background(), r.cfg.OnClose[0], args...)
	log := r.cfg.Logger
	r.hooks.Go(func() {
		out, err := cmd.CombinedOutput()
		if err != nil {
			log.Warn("on-close command failed", slog.String("file", path),
				slog.String("error", err.Error()), slog.String("output", trimOutput(out)))
		}
	})
}

// trimOutput keeps the end of a command's output, where the error usually is.
func trimOutput(b []byte) string {
	const max = 512 // arbitrary: enough for a few lines of a shell error
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}
