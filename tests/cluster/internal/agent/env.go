package agent

// env.go resolves a container's environment the way the kubelet does:
// envFrom first, then env (later entries win, $(VAR) expands against what is
// already defined), then the service variables for the API server only where
// the pod did not define them.

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	podresource "k8s.io/kubernetes/pkg/api/v1/resource"
	"k8s.io/kubernetes/pkg/fieldpath"
)

// envVar is one resolved variable, in definition order.
type envVar struct{ Name, Value string }

// configError is a container configuration problem the kubelet reports as
// CreateContainerConfigError (a missing Secret or key, runAsNonRoot...).
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// expand implements Kubernetes' $(VAR) syntax: $$ escapes, unknown
// references stay literal.
func expand(s string, lookup func(string) (string, bool)) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func (w *podWorker) configMap(ctx context.Context, name string) (*v1.ConfigMap, error) {
	return w.a.client.CoreV1().ConfigMaps(w.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
}

func (w *podWorker) secret(ctx context.Context, name string) (*v1.Secret, error) {
	return w.a.client.CoreV1().Secrets(w.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
}

// fieldRef resolves a downward-API field of the pod.
func (w *podWorker) fieldRef(ref *v1.ObjectFieldSelector) (string, error) {
	switch ref.FieldPath {
	case "spec.nodeName":
		return w.pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return w.pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return w.a.cfg.NodeIP, nil
	case "status.podIP", "status.podIPs":
		return w.podIP(), nil
	}
	return fieldpath.ExtractFieldPathAsString(w.pod, ref.FieldPath)
}

func (w *podWorker) resourceRef(ref *v1.ResourceFieldSelector, container string) (string, error) {
	return podresource.ExtractResourceValueByContainerNameAndNodeAllocatable(ref, w.pod, container, w.a.allocatable())
}

// resolveEnv returns the container's final environment.
func (w *podWorker) resolveEnv(ctx context.Context, c *v1.Container) ([]envVar, error) {
	var order []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			optional := from.ConfigMapRef.Optional != nil && *from.ConfigMapRef.Optional
			cm, err := w.configMap(ctx, from.ConfigMapRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional {
					continue
				}
				if apierrors.IsNotFound(err) {
					return nil, &configError{fmt.Sprintf("configmap %q not found", from.ConfigMapRef.Name)}
				}
				return nil, err
			}
			for k, v := range cm.Data {
				set(from.Prefix+k, v)
			}
		case from.SecretRef != nil:
			optional := from.SecretRef.Optional != nil && *from.SecretRef.Optional
			s, err := w.secret(ctx, from.SecretRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional {
					continue
				}
				if apierrors.IsNotFound(err) {
					return nil, &configError{fmt.Sprintf("secret %q not found", from.SecretRef.Name)}
				}
				return nil, err
			}
			for k, v := range s.Data {
				set(from.Prefix+k, string(v))
			}
		}
	}
	service := w.a.serviceEnv()
	lookup := func(name string) (string, bool) {
		if v, ok := vals[name]; ok {
			return v, true
		}
		for _, e := range service {
			if e.Name == name {
				return e.Value, true
			}
		}
		return "", false
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, lookup))
			continue
		}
		vf := e.ValueFrom
		switch {
		case vf.FieldRef != nil:
			v, err := w.fieldRef(vf.FieldRef)
			if err != nil {
				return nil, &configError{err.Error()}
			}
			set(e.Name, v)
		case vf.ResourceFieldRef != nil:
			name := vf.ResourceFieldRef.ContainerName
			if name == "" {
				name = c.Name
			}
			v, err := w.resourceRef(vf.ResourceFieldRef, name)
			if err != nil {
				return nil, &configError{err.Error()}
			}
			set(e.Name, v)
		case vf.ConfigMapKeyRef != nil:
			ref := vf.ConfigMapKeyRef
			optional := ref.Optional != nil && *ref.Optional
			cm, err := w.configMap(ctx, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) {
					if optional {
						continue
					}
					return nil, &configError{fmt.Sprintf("configmap %q not found", ref.Name)}
				}
				return nil, err
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				if b, okb := cm.BinaryData[ref.Key]; okb {
					v, ok = string(b), true
				}
			}
			if !ok {
				if optional {
					continue
				}
				return nil, &configError{fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", ref.Key, w.pod.Namespace, ref.Name)}
			}
			set(e.Name, v)
		case vf.SecretKeyRef != nil:
			ref := vf.SecretKeyRef
			optional := ref.Optional != nil && *ref.Optional
			s, err := w.secret(ctx, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) {
					if optional {
						continue
					}
					return nil, &configError{fmt.Sprintf("secret %q not found", ref.Name)}
				}
				return nil, err
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				if optional {
					continue
				}
				return nil, &configError{fmt.Sprintf("couldn't find key %s in Secret %s/%s", ref.Key, w.pod.Namespace, ref.Name)}
			}
			set(e.Name, string(v))
		}
	}
	for _, e := range service {
		if _, ok := vals[e.Name]; !ok {
			set(e.Name, e.Value)
		}
	}
	res := make([]envVar, 0, len(order))
	for _, k := range order {
		res = append(res, envVar{k, vals[k]})
	}
	return res, nil
}
