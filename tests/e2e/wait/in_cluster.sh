#!/usr/bin/env bash
# `schemagate wait` as an init container, the way dependent Deployments use
# it: in-cluster config with the pod's ServiceAccount token, a bare name
# resolved in the pod's own namespace, a Role granting only get/list/watch
# on schemamigrations. The pod's main container starts only after the
# SchemaMigration is Ready at --min-version; a ServiceAccount without the
# Role makes the init container exit 6.
# SG_WAIT_IMAGE overrides the image (default schemagate:dev).
source "$(dirname "$0")/../cluster/lib.sh"
IMAGE=${SG_WAIT_IMAGE:-schemagate:dev}
new_namespace e2e-wait

k apply -f "$SG_ROOT/crds/schemagate.dev_schemamigrations.yaml" >/dev/null
k wait --for=condition=Established --timeout=60s crd/schemamigrations.schemagate.dev >/dev/null

wait_reader waiter

pod() {  # pod <name> <serviceaccount> <extra wait args...>
  local name=$1 sa=$2; shift 2
  local args="" a
  for a in "$@"; do args+=", \"$a\""; done
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  serviceAccountName: $sa
  restartPolicy: Never
  initContainers:
  - name: wait
    image: $IMAGE
    imagePullPolicy: IfNotPresent
    args: [wait, app, --timeout=170s$args]
    securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
  containers:
  - name: app
    image: $IMAGE
    imagePullPolicy: IfNotPresent
    args: [--version]
YAML
}

# The local node has no kubelet server (no `kubectl logs`): read the init
# container's output from its Docker container.
init_logs() {
  local cid
  cid=$(pod_field "$1" '{.status.initContainerStatuses[0].containerID}')
  [[ -n $cid ]] && docker logs "${cid#docker://}" 2>&1
}
logs_contain() { init_logs "$1" | grep -qF -- "$2"; }
phase() { pod_field "$1" '{.status.phase}'; }

pod gated waiter --min-version=2
wait_for 120 "the init container to report the missing SchemaMigration" logs_contain gated "not found (yet)"

apply_sm app db migrations
gen=$(k -n "$NS" get sm app -o 'jsonpath={.metadata.generation}')
status() {  # status <appliedVersion>
  k -n "$NS" patch sm app --subresource=status --type=merge -p "{\"status\": {
    \"observedGeneration\": $gen, \"appliedVersion\": $1,
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"Migrated\",
      \"message\": \"at version $1\", \"observedGeneration\": $gen,
      \"lastTransitionTime\": \"2025-01-01T00:00:00Z\"}]}}" >/dev/null
}
status 1
wait_for 60 "the init container to see version 1 < 2" logs_contain gated "applied version 1 < required 2"
[[ $(phase gated) == Pending ]] || fail "pod left Pending while applied version 1 < 2 (phase $(phase gated))"
pass "init container still waiting at applied version 1 (min 2)"

status 2
wait_for 120 "pod gated to succeed" bash -c "[[ \$(KUBECONFIG=$KUBECONFIG $KUBECTL_BIN -n $NS get pod gated -o 'jsonpath={.status.phase}') == Succeeded ]]"
code=$(pod_field gated '{.status.initContainerStatuses[0].state.terminated.exitCode}')
[[ $code == 0 ]] || fail "init container exit code '$code', want 0"
pass "init container returned 0 once Ready at version 2; main container ran"

# Already ready: a new pod passes its init container straight away.
pod later waiter --min-version=2
wait_for 120 "pod later to succeed" bash -c "[[ \$(KUBECONFIG=$KUBECONFIG $KUBECTL_BIN -n $NS get pod later -o 'jsonpath={.status.phase}') == Succeeded ]]"
pass "a pod started after Ready passes at once"

# The default ServiceAccount has no Role: 403 -> exit 6.
pod denied default --max-api-failures=1
wait_for 120 "pod denied to fail" bash -c "[[ \$(KUBECONFIG=$KUBECONFIG $KUBECTL_BIN -n $NS get pod denied -o 'jsonpath={.status.phase}') == Failed ]]"
code=$(pod_field denied '{.status.initContainerStatuses[0].state.terminated.exitCode}')
[[ $code == 6 ]] || fail "denied: init container exit code '$code', want 6"
# The phase can be Failed before the container's log is readable.
wait_for 30 "the denied pod's log to say forbidden" logs_contain denied "forbidden"
pass "without RBAC the init container exits 6"
