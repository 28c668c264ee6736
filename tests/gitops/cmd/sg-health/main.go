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
	"os"

	"schemagate.dev/tests/gitops/health"
)

func main() {
	luaPath := flag.String("lua", "", "Argo CD health script (health.lua)")
	wantK := flag.String("kstatus", "", "expected kstatus status (Current, InProgress, Failed, ...); empty: any")
	wantA := flag.String("argo", "", "expected Argo CD health (Healthy, Progressing, Degraded, Suspended, ...); empty: any")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sg-health --lua health.lua [--kstatus S] [--argo S] file...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *luaPath == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	script, err := os.ReadFile(*luaPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sg-health:", err)
		os.Exit(2)
	}
	rc := 0
	for _, f := range flag.Args() {
		obj, err := health.LoadObject(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sg-health:", err)
			os.Exit(2)
		}
		k, err := health.KStatus(obj)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sg-health: %s: kstatus: %v\n", f, err)
			os.Exit(2)
		}
		a, err := health.Argo(string(script), obj)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sg-health: %s: %v\n", f, err)
			os.Exit(2)
		}
		verdict := "ok"
		if (*wantK != "" && string(k.Status) != *wantK) || (*wantA != "" && a.Status != *wantA) {
			verdict = fmt.Sprintf("MISMATCH (want kstatus %q, argo %q)", *wantK, *wantA)
			rc = 1
		}
		fmt.Printf("%s/%s: kstatus %s (%s); argo %s (%s): %s\n", obj.GetNamespace(), obj.GetName(),
			k.Status, k.Message, a.Status, a.Message, verdict)
	}
	os.Exit(rc)
}
