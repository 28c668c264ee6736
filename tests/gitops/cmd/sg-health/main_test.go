package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

var (
	argoDir = filepath.Join("..", "..", "..", "..", "manifests", "examples", "argocd")
	lua     = filepath.Join(argoDir, "health.lua")
)

func fixture(name string) string { return filepath.Join(argoDir, "testdata", name) }

// The e2e check relies on the exit status: 0 on a match, 1 on a mismatch,
// 2 on bad input.
func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		args []string
		rc   int
		out  string
	}{
		{[]string{"--lua", lua, "--kstatus", "Failed", "--argo", "Degraded", fixture("degraded-migration-failed.yaml")},
			0, "kstatus Failed"},
		{[]string{"--lua", lua, "--kstatus", "Current", "--argo", "Progressing", fixture("progressing-no-status.yaml")},
			0, "argo Progressing (Waiting for the schemagate controller to report status): ok"},
		{[]string{"--lua", lua, "--argo", "Healthy", fixture("healthy.yaml"), fixture("suspended.yaml")},
			1, "argo Suspended (Suspended: spec.suspend is true: no Job is started): MISMATCH"},
		{[]string{"--lua", lua, "--kstatus", "Current", fixture("progressing-lease.yaml")},
			1, "kstatus InProgress"},
		{[]string{"--lua", lua, fixture("no-such-file.yaml")}, 2, ""},
		{[]string{fixture("healthy.yaml")}, 2, ""},
	} {
		var out, errOut bytes.Buffer
		rc := run(c.args, &out, &errOut)
		if rc != c.rc || !strings.Contains(out.String(), c.out) {
			t.Errorf("sg-health %v: exit %d, want %d; output %q (want it to contain %q); stderr %q",
				c.args, rc, c.rc, out.String(), c.out, errOut.String())
		}
	}
}
