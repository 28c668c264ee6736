package health

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// The examples live in the main tree, three levels up from this package.
var (
	examples = filepath.Join("..", "..", "..", "manifests", "examples")
	argoDir  = filepath.Join(examples, "argocd")
	fluxDir  = filepath.Join(examples, "flux")
	shopDir  = filepath.Join(examples, "shop")
)

// healthTests is Argo CD's health_test.yaml format.
type healthTests struct {
	Tests []struct {
		HealthStatus ArgoStatus `json:"healthStatus"`
		InputPath    string     `json:"inputPath"`
	} `json:"tests"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func fixtures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(argoDir, "testdata", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures under %s/testdata (%v)", argoDir, err)
	}
	sort.Strings(files)
	return files
}

// Every case of health_test.yaml, run as Argo CD runs it; every fixture is
// a case and every health status the script can return is covered.
func TestArgoHealthCases(t *testing.T) {
	script := string(readFile(t, filepath.Join(argoDir, "health.lua")))
	var cases healthTests
	if err := yaml.UnmarshalStrict(readFile(t, filepath.Join(argoDir, "health_test.yaml")), &cases); err != nil {
		t.Fatalf("health_test.yaml: %v", err)
	}
	seen := map[string]bool{}
	statuses := map[string]bool{}
	for _, c := range cases.Tests {
		path := filepath.Join(argoDir, c.InputPath)
		seen[filepath.Clean(path)] = true
		statuses[c.HealthStatus.Status] = true
		t.Run(c.InputPath, func(t *testing.T) {
			obj, err := LoadObject(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Argo(script, obj)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.HealthStatus {
				t.Errorf("%s:\n got  %+v\n want %+v", c.InputPath, got, c.HealthStatus)
			}
		})
	}
	for _, f := range fixtures(t) {
		if !seen[filepath.Clean(f)] {
			t.Errorf("fixture %s is not a case in health_test.yaml", f)
		}
	}
	for _, s := range []string{"Healthy", "Progressing", "Degraded", "Suspended"} {
		if !statuses[s] {
			t.Errorf("no case in health_test.yaml expects %s", s)
		}
	}
}

// The argocd-cm snippet carries the very script the cases test.
func TestArgoConfigMapEmbedsScript(t *testing.T) {
	var cm struct {
		Kind string            `json:"kind"`
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(readFile(t, filepath.Join(argoDir, "argocd-cm.yaml")), &cm); err != nil {
		t.Fatal(err)
	}
	const key = "resource.customizations.health.schemagate.dev_SchemaMigration"
	got, ok := cm.Data[key]
	if cm.Kind != "ConfigMap" || !ok {
		t.Fatalf("argocd-cm.yaml: want a ConfigMap with data[%q]", key)
	}
	want := string(readFile(t, filepath.Join(argoDir, "health.lua")))
	if got != want {
		t.Errorf("argocd-cm.yaml data[%q] differs from health.lua; paste health.lua again", key)
	}
}

// What kstatus (Flux, kpt, cli-utils) makes of each fixture.
func TestKStatusFixtures(t *testing.T) {
	want := map[string]status.Status{
		"healthy.yaml":                     status.CurrentStatus,
		"healthy-suspended-at-target.yaml": status.CurrentStatus,
		// kstatus treats an object without conditions or observedGeneration
		// as Current: the controller sets conditions on first sight, and
		// docs/gitops.md explains the window before that.
		"progressing-no-status.yaml":             status.CurrentStatus,
		"progressing-generation.yaml":            status.InProgressStatus,
		"progressing-lease.yaml":                 status.InProgressStatus,
		"progressing-job-running.yaml":           status.InProgressStatus,
		"progressing-backoff.yaml":               status.InProgressStatus,
		"progressing-suspended-job-running.yaml": status.InProgressStatus,
		"suspended.yaml":                         status.InProgressStatus,
		"degraded-migration-failed.yaml":         status.FailedStatus,
		"degraded-source-not-found.yaml":         status.FailedStatus,
	}
	for _, f := range fixtures(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no kstatus expectation for fixture %s", name)
			}
			obj, err := LoadObject(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := KStatus(obj)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != w {
				t.Errorf("kstatus %s (%s), want %s", res.Status, res.Message, w)
			}
			if w == status.FailedStatus && !strings.Contains(res.Message, conditionMessage(obj, "Stalled")) {
				t.Errorf("Failed message %q lacks the Stalled message", res.Message)
			}
		})
	}
}

func conditionMessage(obj *unstructured.Unstructured, kind string) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]interface{})
		if m["type"] == kind {
			s, _ := m["message"].(string)
			return s
		}
	}
	return "<no " + kind + " condition>"
}

// The harness is as strict as Argo CD: no string/os libraries, a table
// must come back, unknown codes become Unknown.
func TestArgoSandbox(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]interface{}{
		"metadata": map[string]interface{}{"name": "x", "generation": int64(2)},
	}}
	if _, err := Argo(`return {status = string.upper("healthy")}`, obj); err == nil {
		t.Error("a script using the string library ran; Argo CD does not open it")
	}
	if _, err := Argo(`return "Healthy"`, obj); err == nil {
		t.Error("a script returning a string was accepted")
	}
	got, err := Argo(`return {status = "Fine", message = "x"}`, obj)
	if err != nil || got.Status != "Unknown" || got.Message != invalidHealthStatus {
		t.Errorf("an invalid status gave %+v, %v; want Unknown", got, err)
	}
	got, err = Argo(`return {status = "Healthy", message = obj.metadata.name .. " " .. obj.metadata.generation}`, obj)
	if err != nil || got != (ArgoStatus{"Healthy", "x 2"}) {
		t.Errorf("obj not visible to the script as Argo CD passes it: %+v, %v", got, err)
	}
}

// The sync-wave and dependsOn ordering the examples promise.
func TestExampleOrdering(t *testing.T) {
	waves := map[string]string{}
	for _, f := range []string{"migrations/schemamigration.yaml", "app/deployment.yaml"} {
		obj, err := LoadObject(filepath.Join(shopDir, f))
		if err != nil {
			t.Fatal(err)
		}
		waves[obj.GetKind()] = obj.GetAnnotations()["argocd.argoproj.io/sync-wave"]
	}
	if waves["SchemaMigration"] == "" || waves["Deployment"] == "" ||
		!(atoi(t, waves["SchemaMigration"]) < atoi(t, waves["Deployment"])) {
		t.Errorf("Argo CD example: SchemaMigration wave %q must be before Deployment wave %q",
			waves["SchemaMigration"], waves["Deployment"])
	}

	docs := strings.Split(string(readFile(t, filepath.Join(fluxDir, "kustomizations.yaml"))), "\n---\n")
	type ks struct {
		Metadata struct{ Name string } `json:"metadata"`
		Spec     struct {
			Wait      bool `json:"wait"`
			DependsOn []struct {
				Name string `json:"name"`
			} `json:"dependsOn"`
			HealthChecks []struct {
				Kind string `json:"kind"`
			} `json:"healthChecks"`
		} `json:"spec"`
	}
	byName := map[string]ks{}
	for _, d := range docs {
		var k ks
		if err := yaml.Unmarshal([]byte(d), &k); err != nil {
			t.Fatal(err)
		}
		byName[k.Metadata.Name] = k
	}
	m, a := byName["shop-migrations"], byName["shop-app"]
	if !m.Spec.Wait && len(m.Spec.HealthChecks) == 0 {
		t.Error("Flux example: shop-migrations neither waits nor health-checks")
	}
	if len(a.Spec.DependsOn) != 1 || a.Spec.DependsOn[0].Name != "shop-migrations" {
		t.Errorf("Flux example: shop-app must dependOn shop-migrations, has %+v", a.Spec.DependsOn)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("sync-wave %q is not an integer", s)
	}
	return n
}
