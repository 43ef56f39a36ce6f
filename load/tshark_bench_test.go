package load_test

import (
	"os/exec"
	"testing"

	"github.com/pcapload/pcapload/internal/testenv"
)

// BenchmarkTshark is the yardstick: tshark exporting the fields of every
// DNS message of the same generated capture, as an analyst would without
// pcapload. Compare its msgs/s with BenchmarkRun_Parquet's in the same run.
func BenchmarkTshark(b *testing.B) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		testenv.Missing(b, "tshark (make tools installs it)")
	}
	path, msgs := generatedCapture(b)
	var cpu float64 // tshark's own CPU time: it runs as a child
	for b.Loop() {
		cmd := exec.Command(bin, "-n", "-r", path, "-Y", "dns", "-T", "fields",
			"-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "dns.id",
			"-e", "dns.flags.response", "-e", "dns.flags.rcode", "-e", "dns.qry.name", "-e", "dns.qry.type",
			"-e", "dns.resp.name", "-e", "dns.resp.type", "-e", "dns.resp.ttl")
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		cpu += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	total := float64(msgs) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(total/cpu, "msgs/cpu-s")
}
