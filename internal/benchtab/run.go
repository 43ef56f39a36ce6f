package benchtab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/pcapload/pcapload/internal/procstat"
)

// Run generates the inputs under cfg.Dir, measures tshark and every stage
// on each, cfg.Runs times, and returns the medians. It fails on the first
// run that fails or does not load exactly the messages generated.
func Run(ctx context.Context, cfg Config) (t *Table, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: &cfg}

	// The server first: without the engine it fails at once, not after
	// minutes of generating captures.
	if slices.Contains(cfg.Stages, Server) {
		if err := r.withServer(ctx, func() error { return nil }); err != nil {
			return nil, err
		}
	}
	inputs, err := r.inputs()
	if err != nil {
		return nil, err
	}
	t = r.header(ctx)
	for i := 0; i < len(inputs); i++ {
		var cp *input
		if i+1 < len(inputs) && inputs[i+1].Plain == inputs[i].Name {
			cp = &inputs[i+1]
		}
		rows, cpRows, err := r.measure(ctx, &inputs[i], cp)
		if err != nil {
			return nil, err
		}
		t.Rows = append(append(t.Rows, rows...), cpRows...)
		if cp != nil {
			i++
		}
	}
	t.compare()
	return t, nil
}

// runner holds what one Run shares between steps.
type runner struct {
	cfg *Config
	srv *server // nil without the server stage
	seq int     // runs so far, naming each run's output
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "benchtab: "+format+"\n", args...)
}

// inputs generates the captures: one per size, the zstd copy and the
// folder of small files.
func (r *runner) inputs() ([]input, error) {
	cfg := r.cfg
	ratio, err := packetsPerMessage()
	if err != nil {
		return nil, err
	}
	r.logf("generator: %.4f packets per message", ratio)
	var inputs []input
	for _, n := range cfg.Sizes {
		r.logf("generate %d packets", n)
		in, err := sizedInput(cfg.Dir, n, ratio, cfg.TsharkMax)
		if err != nil {
			return nil, err
		}
		in.Stages, in.Runs = cfg.Stages, cfg.Runs
		inputs = append(inputs, in)
	}
	zstdStages := slices.DeleteFunc(slices.Clone(cfg.Stages), func(s Stage) bool {
		return s != Null && s != Parquet
	})
	if i := slices.Index(cfg.Sizes, cfg.ZstdSize); i >= 0 && len(zstdStages) > 0 {
		r.logf("compress %s", inputs[i].Path)
		in, err := zstdInput(inputs[i])
		if err != nil {
			return nil, err
		}
		in.Stages = zstdStages
		inputs = slices.Insert(inputs, i+1, in) // beside its plain copy in the table
	}
	if cfg.ManyFiles > 0 {
		r.logf("generate %d files of %d packets", cfg.ManyFiles, cfg.ManyPackets)
		in, err := manyInput(cfg.Dir, cfg.ManyFiles, cfg.ManyPackets, ratio)
		if err != nil {
			return nil, err
		}
		in.Stages, in.Runs = cfg.Stages, cfg.ManyRuns
		inputs = append(inputs, in)
	}
	return inputs, nil
}

// header starts the table with what identifies the run.
func (r *runner) header(ctx context.Context) *Table {
	t := &Table{Command: r.cfg.Command, Cores: runtime.NumCPU(), Runs: r.cfg.Runs, CPU: cpuModel(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, TsharkMax: r.cfg.TsharkMax}
	t.Version = firstLine(ctx, r.cfg.Bin, "version")
	if r.cfg.Tshark != "" {
		t.Tshark = firstLine(ctx, r.cfg.Tshark, "--version")
	}
	return t
}

// firstLine returns the first line a command prints, or why it printed
// none.
func firstLine(ctx context.Context, bin string, args ...string) string {
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		return fmt.Sprintf("%s: %v", bin, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// measure runs tshark and every stage on in, and the stages of cp, its
// compressed copy when not nil, each run of the copy right after the same
// run of the plain file. Measured one input after the other, the copy's
// ratio to the plain file took the machine's drift between them: a zstd
// copy exported to Parquet in 1.19 to 1.73 times the plain file's time in
// make bench, and in 1.14 to 1.35 times (1.18 the median) in runs side by
// side.
func (r *runner) measure(ctx context.Context, in, cp *input) (rows, cpRows []Row, err error) {
	if r.cfg.Tshark != "" && in.Plain == "" && in.Files == 1 {
		row := r.row(in, "tshark")
		if in.Tshark {
			var samples []sample
			for i := range in.Runs {
				s, err := r.once(in, "tshark", i, func() (sample, error) { return tshark(ctx, r.cfg, in) })
				if err != nil {
					return nil, nil, err
				}
				samples = append(samples, s)
			}
			row.set(samples)
		}
		rows = append(rows, row)
	}
	for _, st := range in.Stages {
		twin := cp != nil && slices.Contains(cp.Stages, st)
		var samples, twinSamples []sample
		runs := func() error {
			for i := range in.Runs {
				s, err := r.once(in, string(st), i, func() (sample, error) { return r.loadOnce(ctx, st, in) })
				if err != nil {
					return err
				}
				samples = append(samples, s)
				if !twin || i >= cp.Runs {
					continue
				}
				s, err = r.once(cp, string(st), i, func() (sample, error) { return r.loadOnce(ctx, st, cp) })
				if err != nil {
					return err
				}
				twinSamples = append(twinSamples, s)
			}
			return nil
		}
		if st == Server {
			err = r.withServer(ctx, runs)
		} else {
			err = runs()
		}
		if err != nil {
			return nil, nil, err
		}
		row := r.row(in, string(st))
		row.set(samples)
		rows = append(rows, row)
		if twin {
			row := r.row(cp, string(st))
			row.setPaired(twinSamples, samples)
			cpRows = append(cpRows, row)
		}
	}
	return rows, cpRows, nil
}

func (r *runner) row(in *input, stage string) Row {
	return Row{Input: in.Name, Packets: in.Packets, Messages: in.Messages, Bytes: in.Bytes,
		Stage: stage, plain: in.Plain}
}

// once runs stage on in, its run i, and logs what it measured.
func (r *runner) once(in *input, stage string, i int, run func() (sample, error)) (sample, error) {
	s, err := run()
	if err != nil {
		return s, fmt.Errorf("%s, %s, run %d: %w", in.Name, stage, i+1, err)
	}
	r.logf("%s, %s, run %d/%d: %.2fs, %.2f CPU-s, %.0f MiB", in.Name, stage, i+1, in.Runs,
		s.Wall, s.CPU, s.RSS)
	return s, nil
}

// loadOnce loads in once into a fresh destination of stage st, removed
// afterwards.
func (r *runner) loadOnce(ctx context.Context, st Stage, in *input) (sample, error) {
	r.seq++
	out := filepath.Join(r.cfg.Dir, fmt.Sprintf("out-%d", r.seq))
	defer os.RemoveAll(out)
	switch st {
	case Null:
		return load(ctx, r.cfg, in, "null")
	case Parquet:
		s, err := load(ctx, r.cfg, in, "parquet:"+out)
		if err == nil {
			s.Out, err = dirBytes(out)
		}
		return s, err
	case DB:
		return load(ctx, r.cfg, in, "db:"+out)
	case DBParquet:
		s, err := load(ctx, r.cfg, in, "db:"+filepath.Join(out, "db"), "parquet:"+filepath.Join(out, "parquet"))
		if err == nil {
			s.Out, err = dirBytes(filepath.Join(out, "parquet"))
		}
		return s, err
	case Server:
		return r.serverOnce(ctx, in, fmt.Sprintf("bench%d", r.seq))
	}
	return sample{}, fmt.Errorf("unknown stage %q", st)
}

// withServer runs f with r.srv serving, started for it and stopped
// after. A server left up from the run's start to its end kept working
// after each server stage's loads (its own tables' logs and merges, the
// databases dropped) and took CPU from the stages after it: in one make
// bench, the zstd copy exported to Parquet in 1.73 times the plain file's
// wall time, measured after the server stage, and in 1.07 times with no
// server up.
func (r *runner) withServer(ctx context.Context, f func() error) (err error) {
	r.logf("start pcapload serve")
	r.srv, err = startServer(ctx, r.cfg, filepath.Join(r.cfg.Dir, "served"))
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, r.srv.stop())
		r.srv = nil
	}()
	return f()
}

// serverOnce loads in into a new database db of the server, with the
// server's CPU time and peak memory over the load, and drops the database.
func (r *runner) serverOnce(ctx context.Context, in *input, db string) (s sample, err error) {
	if _, err := r.srv.query(ctx, "CREATE DATABASE "+db); err != nil {
		return s, err
	}
	defer func() {
		_, derr := r.srv.query(context.WithoutCancel(ctx), "DROP DATABASE "+db+" SYNC")
		err = errors.Join(err, derr)
	}()
	pid := r.srv.pid()
	if err := resetPeakRSS(pid); err != nil {
		return s, fmt.Errorf("reset the server's peak memory: %w", err)
	}
	cpu0, err := procstat.CPU(pid)
	if err != nil {
		return s, err
	}
	if s, err = load(ctx, r.cfg, in, r.srv.url(db)); err != nil {
		return s, err
	}
	cpu1, err := procstat.CPU(pid)
	if err != nil {
		return s, err
	}
	s.ServerCPU = (cpu1 - cpu0).Seconds()
	peak, err := procstat.PeakRSS(pid)
	if err != nil {
		return s, err
	}
	s.ServerRSS = float64(peak) / (1 << 20)

	// The summary counts what the loader sent; the table is what the
	// server kept.
	n, err := r.srv.query(ctx, "SELECT count() FROM "+db+".dns_messages")
	if err == nil && n != fmt.Sprint(in.Messages) {
		err = fmt.Errorf("%s.dns_messages holds %s rows; generated %d messages", db, n, in.Messages)
	}
	return s, err
}

// dirBytes returns the bytes of the files under dir.
func dirBytes(dir string) (float64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		n += info.Size()
		return err
	})
	return float64(n), err
}
