#!/usr/bin/env bash
# A pod using its projected ServiceAccount token (TokenRequest bound to the
# pod, ca.crt and namespace beside it, KUBERNETES_SERVICE_HOST/PORT pointing
# at the API server) can do exactly what its RBAC allows: listing ConfigMaps
# in its namespace works, listing Secrets gets 403 Forbidden.
# The tool in the pod is the pinned kubectl, mounted read-only from the host.
source "$(dirname "$0")/lib.sh"
new_namespace e2e-rbac
k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: configmap-reader}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
subjects: [{kind: ServiceAccount, name: reader, namespace: $NS}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: visible}
data: {k: v}
---
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  serviceAccountName: reader
  restartPolicy: Never
  securityContext: {runAsUser: 65532, runAsNonRoot: true}
  containers:
  - name: tool
    image: debian:bookworm-slim
    imagePullPolicy: Never
    command: ["/bin/sh", "-c"]
    args:
    - |
      set -u
      sa=/var/run/secrets/kubernetes.io/serviceaccount
      out=/dev/termination-log
      echo "host=\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT" >>\$out
      echo "ns=\$(cat \$sa/namespace)" >>\$out
      test -s \$sa/token && test -s \$sa/ca.crt && echo "files=ok" >>\$out
      if /opt/kubectl/kubectl get configmap visible -o 'jsonpath={.data.k}' >/tmp/cm 2>/tmp/cm.err; then
        echo "configmaps=allowed:\$(cat /tmp/cm)" >>\$out
      else
        echo "configmaps=denied:\$(head -c 300 /tmp/cm.err)" >>\$out
      fi
      /opt/kubectl/kubectl get secrets -v=6 >/tmp/s 2>&1
      echo "secrets=\$(grep -o '[0-9][0-9][0-9] Forbidden' /tmp/s | head -n1)" >>\$out
      echo "whoami=\$(/opt/kubectl/kubectl auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)" >>\$out
    volumeMounts: [{name: kubectl, mountPath: /opt/kubectl, readOnly: true}]
  volumes:
  - name: kubectl
    hostPath: {path: $CLUSTER_BIN, type: Directory}
YAML
wait_for 120 "pod probe terminal" pod_terminal probe
msg=$(pod_field probe '{.status.containerStatuses[0].state.terminated.message}')
echo "$msg"
[[ $(pod_field probe '{.status.phase}') == Succeeded ]] || fail "probe pod $(pod_field probe '{.status.phase}')"
grep -qx "ns=$NS" <<<"$msg" || fail "namespace file"
grep -qx "files=ok" <<<"$msg" || fail "token/ca.crt files"
grep -qx "host=127.0.0.1:.*" <<<"$msg" || fail "KUBERNETES_SERVICE_HOST/PORT"
grep -qx "configmaps=allowed:v" <<<"$msg" || fail "allowed call did not succeed"
grep -qx "secrets=403 Forbidden" <<<"$msg" || fail "forbidden call did not get 403"
grep -qx "whoami=system:serviceaccount:$NS:reader" <<<"$msg" || fail "token identity"
# The token is bound to the pod: the API server records the binding in it.
pass "ServiceAccount token: RBAC-allowed call succeeds, forbidden call gets 403"
