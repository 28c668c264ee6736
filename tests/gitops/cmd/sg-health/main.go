// Command sg-health prints the Argo CD health (from a health.lua) and the
// kstatus status of objects in JSON or YAML files (e.g. `kubectl get -o
// json` of live SchemaMigrations), one line per file, and checks them
// against expectations:
//
//	sg-health --lua health.lua [--kstatus Current] [--argo Healthy] file...
//
// Exit status: 0 all files match, 1 a mismatch, 2 bad usage or input.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"schemagate.dev/tests/gitops/health"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sg-health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	luaPath := fs.String("lua", "", "Argo CD health script (health.lua)")
	wantK := fs.String("kstatus", "", "expected kstatus status (Current, InProgress, Failed, ...); empty: any")
	wantA := fs.String("argo", "", "expected Argo CD health (Healthy, Progressing, Degraded, Suspended, ...); empty: any")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sg-health --lua health.lua [--kstatus S] [--argo S] file...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *luaPath == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	script, err := os.ReadFile(*luaPath)
	if err != nil {
		fmt.Fprintln(stderr, "sg-health:", err)
		return 2
	}
	rc := 0
	for _, f := range fs.Args() {
		obj, err := health.LoadObject(f)
		if err != nil {
			fmt.Fprintln(stderr, "sg-health:", err)
			return 2
		}
		k, err := health.KStatus(obj)
		if err != nil {
			fmt.Fprintf(stderr, "sg-health: %s: kstatus: %v\n", f, err)
			return 2
		}
		a, err := health.Argo(string(script), obj)
		if err != nil {
			fmt.Fprintf(stderr, "sg-health: %s: %v\n", f, err)
			return 2
		}
		verdict := "ok"
		if (*wantK != "" && string(k.Status) != *wantK) || (*wantA != "" && a.Status != *wantA) {
			verdict = fmt.Sprintf("MISMATCH (want kstatus %q, argo %q)", *wantK, *wantA)
			rc = 1
		}
		fmt.Fprintf(stdout, "%s/%s: kstatus %s (%s); argo %s (%s): %s\n", obj.GetNamespace(), obj.GetName(),
			k.Status, k.Message, a.Status, a.Message, verdict)
	}
	return rc
}
