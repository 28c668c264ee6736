// Package health computes the GitOps health of Kubernetes objects the way
// the tools do: Argo CD runs a resource health script in gopher-lua, Flux,
// kpt and cli-utils run kstatus. Test infrastructure for the SchemaMigration
// examples under manifests/examples; safe for concurrent use (every call
// gets its own Lua state).
package health

import (
	"context"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

// ArgoStatus is what an Argo CD health script returns (its HealthStatus).
type ArgoStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// The health codes Argo CD accepts from a script; anything else becomes
// Unknown with invalidHealthStatus, as Argo CD does.
var argoCodes = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

const invalidHealthStatus = "Lua returned an invalid health status"

// LoadObject reads one object from a YAML or JSON file. Numbers become
// int64 where they are integral, as in objects the API server returns, so
// kstatus's NestedInt64 lookups work.
func LoadObject(path string) (*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseObject(data, path)
}

// ParseObject parses one object from YAML or JSON; name is used in errors.
func ParseObject(data []byte, name string) (*unstructured.Unstructured, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return u, nil
}

// Argo runs an Argo CD health script against obj the way Argo CD's
// controller does for a script from argocd-cm: a fresh Lua state without
// the standard libraries except package, base and table, the object as
// the global table `obj`, a one-second deadline, and the table the script
// returns read as {status, message}.
func Argo(script string, obj *unstructured.Unstructured) (ArgoStatus, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true},
			lua.LString(lib.name)); err != nil {
			return ArgoStatus{}, fmt.Errorf("opening Lua library %s: %w", lib.name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		return ArgoStatus{}, fmt.Errorf("health script: %w", err)
	}
	ret := l.Get(-1)
	tbl, ok := ret.(*lua.LTable)
	if !ok {
		return ArgoStatus{}, fmt.Errorf("expect table output from Lua script, not %s", ret.Type())
	}
	var hs ArgoStatus
	for field, dst := range map[string]*string{"status": &hs.Status, "message": &hs.Message} {
		switch v := tbl.RawGetString(field).(type) {
		case *lua.LNilType:
		case lua.LString:
			*dst = string(v)
		default:
			return ArgoStatus{}, fmt.Errorf("health script returned %s of type %s, want a string",
				field, v.Type())
		}
	}
	if !argoCodes[hs.Status] {
		return ArgoStatus{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return hs, nil
}

// toLua converts a decoded JSON value into Lua values: objects become
// tables with string keys, arrays 1-based sequences, numbers LNumber.
func toLua(l *lua.LState, v interface{}) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case string:
		return lua.LString(x)
	case int64:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case []interface{}:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// KStatus is kstatus's verdict (Current, InProgress, Failed, ...).
func KStatus(obj *unstructured.Unstructured) (*status.Result, error) {
	return status.Compute(obj)
}
