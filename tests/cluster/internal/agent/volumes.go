package agent

// volumes.go materialises a pod's volumes under its directory on the host.
// ConfigMap, Secret, downwardAPI and projected volumes are written like the
// kubelet's atomic writer: the payload goes into a fresh timestamped
// directory, "..data" is swapped to it with one rename, and the visible
// entries are symlinks through "..data", so a container never sees a half
// update (the ServiceAccount token is rotated this way).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type file struct {
	data []byte
	mode os.FileMode
}

// payload is one volume's files keyed by relative path.
type payload map[string]file

func modeOr(m *int32, def int32) os.FileMode {
	if m != nil {
		return os.FileMode(*m) & 0o7777
	}
	return os.FileMode(def) & 0o7777
}

func (w *podWorker) volumeDir(name string) string {
	return filepath.Join(w.dir, "volumes", name)
}

// projectKeys adds data (all keys, or only items) to p.
func projectKeys(p payload, data map[string][]byte, items []v1.KeyToPath, defMode int32, kind, ns, name string, optional bool) error {
	if len(items) == 0 {
		for k, v := range data {
			p[k] = file{v, modeOr(nil, defMode)}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return fmt.Errorf("configmap references non-existent config key: %s", it.Key)
		}
		p[it.Path] = file{v, modeOr(it.Mode, defMode)}
	}
	_ = kind
	_ = ns
	_ = name
	return nil
}

func cmData(cm *v1.ConfigMap) map[string][]byte {
	d := map[string][]byte{}
	for k, v := range cm.Data {
		d[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		d[k] = v
	}
	return d
}

func (w *podWorker) downward(p payload, items []v1.DownwardAPIVolumeFile, defMode int32) error {
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = w.fieldRef(it.FieldRef)
		case it.ResourceFieldRef != nil:
			v, err = w.resourceRef(it.ResourceFieldRef, it.ResourceFieldRef.ContainerName)
		}
		if err != nil {
			return err
		}
		p[it.Path] = file{[]byte(v), modeOr(it.Mode, defMode)}
	}
	return nil
}

// token requests a ServiceAccount token bound to this pod.
func (w *podWorker) token(ctx context.Context, src *v1.ServiceAccountTokenProjection) ([]byte, time.Time, error) {
	exp := int64(3600)
	if src.ExpirationSeconds != nil {
		exp = *src.ExpirationSeconds
	}
	var aud []string
	if src.Audience != "" {
		aud = []string{src.Audience}
	}
	sa := w.pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := w.a.client.CoreV1().ServiceAccounts(w.pod.Namespace).CreateToken(ctx, sa, &authv1.TokenRequest{
		Spec: authv1.TokenRequestSpec{
			Audiences:         aud,
			ExpirationSeconds: &exp,
			BoundObjectRef:    &authv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: w.pod.Name, UID: w.pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("failed to fetch token: %v", err)
	}
	// Rotate at 80% of the lifetime, as the kubelet's token manager does,
	// or sooner when the agent was given a shorter refresh period.
	issued := time.Now()
	life := tr.Status.ExpirationTimestamp.Time.Sub(issued)
	after := life * 8 / 10
	if p := w.a.cfg.TokenRefreshPeriod; p > 0 && p < after {
		after = p
	}
	return []byte(tr.Status.Token), issued.Add(after), nil
}

// issuedToken is a projected ServiceAccount token and when to replace it.
type issuedToken struct {
	data    []byte
	refresh time.Time
}

// buildPayload computes the files of a ConfigMap/Secret/downwardAPI/projected
// volume; ok=false means the volume kind has no payload. refresh is when the
// payload must next be rebuilt (zero: only on the periodic resync). Tokens
// in `cached` (by path) that are not yet due are reused, as the kubelet's
// token manager does: the periodic resync must not rotate them. Every token
// of the payload is recorded in `tokens`.
func (w *podWorker) buildPayload(ctx context.Context, vol *v1.Volume, cached, tokens map[string]issuedToken) (p payload, refresh time.Time, ok bool, err error) {
	p = payload{}
	ns := w.pod.Namespace
	switch {
	case vol.ConfigMap != nil:
		src := vol.ConfigMap
		optional := src.Optional != nil && *src.Optional
		cm, gerr := w.configMap(ctx, src.Name)
		if gerr != nil {
			if apierrors.IsNotFound(gerr) && optional {
				return p, refresh, true, nil
			}
			return nil, refresh, true, fmt.Errorf("configmap %q not found", src.Name)
		}
		return p, refresh, true, projectKeys(p, cmData(cm), src.Items, derefMode(src.DefaultMode), "ConfigMap", ns, src.Name, optional)
	case vol.Secret != nil:
		src := vol.Secret
		optional := src.Optional != nil && *src.Optional
		s, gerr := w.secret(ctx, src.SecretName)
		if gerr != nil {
			if apierrors.IsNotFound(gerr) && optional {
				return p, refresh, true, nil
			}
			return nil, refresh, true, fmt.Errorf("secret %q not found", src.SecretName)
		}
		return p, refresh, true, projectKeys(p, s.Data, src.Items, derefMode(src.DefaultMode), "Secret", ns, src.SecretName, optional)
	case vol.DownwardAPI != nil:
		return p, refresh, true, w.downward(p, vol.DownwardAPI.Items, derefMode(vol.DownwardAPI.DefaultMode))
	case vol.Projected != nil:
		def := derefMode(vol.Projected.DefaultMode)
		for _, s := range vol.Projected.Sources {
			switch {
			case s.ConfigMap != nil:
				optional := s.ConfigMap.Optional != nil && *s.ConfigMap.Optional
				cm, gerr := w.configMap(ctx, s.ConfigMap.Name)
				if gerr != nil {
					if apierrors.IsNotFound(gerr) && optional {
						continue
					}
					return nil, refresh, true, fmt.Errorf("configmap %q not found", s.ConfigMap.Name)
				}
				if err := projectKeys(p, cmData(cm), s.ConfigMap.Items, def, "ConfigMap", ns, s.ConfigMap.Name, optional); err != nil {
					return nil, refresh, true, err
				}
			case s.Secret != nil:
				optional := s.Secret.Optional != nil && *s.Secret.Optional
				sec, gerr := w.secret(ctx, s.Secret.Name)
				if gerr != nil {
					if apierrors.IsNotFound(gerr) && optional {
						continue
					}
					return nil, refresh, true, fmt.Errorf("secret %q not found", s.Secret.Name)
				}
				if err := projectKeys(p, sec.Data, s.Secret.Items, def, "Secret", ns, s.Secret.Name, optional); err != nil {
					return nil, refresh, true, err
				}
			case s.DownwardAPI != nil:
				if err := w.downward(p, s.DownwardAPI.Items, def); err != nil {
					return nil, refresh, true, err
				}
			case s.ServiceAccountToken != nil:
				path := s.ServiceAccountToken.Path
				t, have := cached[path]
				if !have || !time.Now().Before(t.refresh) {
					tok, at, terr := w.token(ctx, s.ServiceAccountToken)
					if terr != nil {
						return nil, refresh, true, terr
					}
					t = issuedToken{tok, at}
				}
				tokens[path] = t
				p[path] = file{t.data, modeOr(nil, def)}
				if refresh.IsZero() || t.refresh.Before(refresh) {
					refresh = t.refresh
				}
			case s.ClusterTrustBundle != nil:
				return nil, refresh, true, fmt.Errorf("clusterTrustBundle projections are not supported by this node agent")
			}
		}
		return p, refresh, true, nil
	}
	return nil, refresh, false, nil
}

func derefMode(m *int32) int32 {
	if m == nil {
		return 0o644
	}
	return *m
}

// writeAtomic publishes p into dir through the "..data" symlink swap.
func writeAtomic(dir string, p payload) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ts, err := os.MkdirTemp(dir, ".."+time.Now().UTC().Format("2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(ts, 0o755); err != nil {
		return err
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := p[k]
		full := filepath.Join(ts, k)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, 0o600); err != nil {
			return err
		}
		if err := os.Chmod(full, f.mode); err != nil {
			return err
		}
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(ts), tmpLink); err != nil {
		return err
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	if err := os.Rename(tmpLink, filepath.Join(dir, "..data")); err != nil {
		return err
	}
	// Visible top-level entries point through ..data.
	want := map[string]bool{}
	for _, k := range keys {
		top := strings.SplitN(k, "/", 2)[0]
		want[top] = true
		link := filepath.Join(dir, top)
		if cur, err := os.Readlink(link); err == nil && cur == filepath.Join("..data", top) {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(filepath.Join("..data", top), link); err != nil {
			return err
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			if n != "..data" && n != filepath.Base(ts) && e.IsDir() {
				_ = os.RemoveAll(filepath.Join(dir, n))
			}
			continue
		}
		if !want[n] {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	if old != "" && old != filepath.Base(ts) {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

func payloadEqual(a, b payload) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		o, ok := b[k]
		if !ok || o.mode != v.mode || string(o.data) != string(v.data) {
			return false
		}
	}
	return true
}

// volumeState remembers what was last published into a volume.
type volumeState struct {
	published payload
	refresh   time.Time // token rotation deadline
	synced    time.Time
	tokens    map[string]issuedToken // projected tokens by path
}

// syncVolumes creates every volume; ConfigMap/Secret-backed content is
// refreshed each resyncPeriod and tokens at 80% of their lifetime (or the
// agent's --token-refresh-period): a new TokenRequest, published with the
// same "..data" swap, so a reader never sees a partial token.
func (w *podWorker) syncVolumes(ctx context.Context) error {
	const resyncPeriod = time.Minute
	for i := range w.pod.Spec.Volumes {
		vol := &w.pod.Spec.Volumes[i]
		dir := w.volumeDir(vol.Name)
		switch {
		case vol.EmptyDir != nil:
			if _, err := os.Stat(dir); err != nil {
				if err := os.MkdirAll(dir, 0o777); err != nil {
					return err
				}
				if err := os.Chmod(dir, 0o777); err != nil { // world-writable like the kubelet's
					return err
				}
			}
			continue
		case vol.HostPath != nil:
			t := v1.HostPathUnset
			if vol.HostPath.Type != nil {
				t = *vol.HostPath.Type
			}
			if t == v1.HostPathDirectoryOrCreate {
				if err := os.MkdirAll(vol.HostPath.Path, 0o755); err != nil {
					return err
				}
			}
			continue
		}
		st := w.volumes[vol.Name]
		now := time.Now()
		if st != nil && now.Sub(st.synced) < resyncPeriod && (st.refresh.IsZero() || now.Before(st.refresh)) {
			continue
		}
		var cached map[string]issuedToken
		if st != nil {
			cached = st.tokens
		}
		tokens := map[string]issuedToken{}
		p, refresh, ok, err := w.buildPayload(ctx, vol, cached, tokens)
		if !ok {
			return fmt.Errorf("volume %q: unsupported volume type on this node agent", vol.Name)
		}
		if err != nil {
			if st != nil { // keep serving the last good content
				continue
			}
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : %v", vol.Name, err)
		}
		if st == nil || !payloadEqual(st.published, p) {
			if err := writeAtomic(dir, p); err != nil {
				return fmt.Errorf("volume %q: %v", vol.Name, err)
			}
		}
		w.volumes[vol.Name] = &volumeState{published: p, refresh: refresh, synced: now, tokens: tokens}
	}
	return nil
}

// hostPathFor returns the host source of a volume mount.
func (w *podWorker) hostPathFor(m *v1.VolumeMount, lookup func(string) (string, bool)) (src string, readOnly bool, err error) {
	var vol *v1.Volume
	for i := range w.pod.Spec.Volumes {
		if w.pod.Spec.Volumes[i].Name == m.Name {
			vol = &w.pod.Spec.Volumes[i]
		}
	}
	if vol == nil {
		return "", false, fmt.Errorf("volume %q not found", m.Name)
	}
	base := w.volumeDir(vol.Name)
	ro := m.ReadOnly
	switch {
	case vol.HostPath != nil:
		base = vol.HostPath.Path
	case vol.ConfigMap != nil, vol.Secret != nil, vol.Projected != nil, vol.DownwardAPI != nil:
		ro = true // the kubelet always mounts these read-only
	}
	sub := m.SubPath
	if m.SubPathExpr != "" {
		sub = expand(m.SubPathExpr, lookup)
	}
	if sub == "" {
		return base, ro, nil
	}
	full, err := filepath.EvalSymlinks(filepath.Join(base, sub))
	if err != nil {
		if vol.EmptyDir != nil && os.IsNotExist(err) {
			full = filepath.Join(base, sub)
			if err := os.MkdirAll(full, 0o777); err != nil {
				return "", false, err
			}
			return full, ro, nil
		}
		return "", false, fmt.Errorf("subPath %q of volume %q: %v", sub, m.Name, err)
	}
	baseReal, _ := filepath.EvalSymlinks(base)
	if !strings.HasPrefix(full, baseReal+string(os.PathSeparator)) && full != baseReal {
		return "", false, fmt.Errorf("subPath %q escapes volume %q", sub, m.Name)
	}
	return full, ro, nil
}
