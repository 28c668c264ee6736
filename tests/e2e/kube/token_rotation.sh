#!/usr/bin/env bash
# The in-cluster config follows a rotating ServiceAccount token (issue 4).
#
# A cluster of the test's own (scripts/cluster.sh with a temporary
# CLUSTER_RUN, stopped by PID at the end) whose node agent rotates projected
# tokens every ROTATE (--token-refresh-period: a new TokenRequest bound to
# the pod, published by swapping the volume's ..data symlink, as the kubelet
# does at 80% of the token's lifetime) and whose API server writes an audit
# log of every ServiceAccount request. A pod runs `schemagate controller`
# from schemagate:dev with leader election, so it renews its Lease every 2 s
# with whatever token its in-cluster credentials hold.
#
# Proof, from the API server itself: in v1.34 every request authenticated by
# a ServiceAccount token carries the token's ID in the audit event
# (user.extra["authentication.kubernetes.io/credential-id"] = "JTI=<jti>").
# The test reads each token's jti and the time the agent published it from
# the pod's volume on the host, waits for two rotations, and asserts that
# every request of the pod received more than SLACK seconds after a token was
# published used that token (none kept using the old one; the credentials'
# once-a-minute re-read would not pass), with at least 3 requests per token.
#
# Old tokens stay valid until they expire (bound to the pod, >= 10 min), so
# "the old token is rejected" cannot be the signal; the audit log records
# which token each request used, which is exactly the claim under test.
#
#   SG_ROTATION_IMAGE   image (default schemagate:dev, scripts/image.sh)
#   SG_ROTATION_KEEP=1  keep the cluster directory (logs, audit.log) after the test
set -Eeuo pipefail
trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
SG_ROOT=${SG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
ROOT=$SG_ROOT
source "$SG_ROOT/scripts/cluster-env.sh"
IMAGE=${SG_ROTATION_IMAGE:-schemagate:dev}
ROTATE=15  # seconds between rotations
SLACK=1    # a request this long after a token was published must use it
NS=rotation
SA=rotator

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS: $*"; }
wait_for() {  # wait_for <seconds> <what> <command...>: poll with a deadline
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after $limit s waiting for $what"
    sleep 0.5
  done
}
for tool in docker jq curl; do command -v "$tool" >/dev/null || fail "$tool not found"; done
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE missing: run scripts/image.sh"
# Never start a cold cluster build (~30 min) from a test (test-prepare does).
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [[ -x $CLUSTER_BIN/$b ]] || fail "$CLUSTER_BIN/$b missing: run scripts/cluster-build.sh"
done

RUN=$(mktemp -d /tmp/sg-rotation.XXXXXX)
export CLUSTER_RUN=$RUN
export SG_AGENT_ARGS="--token-refresh-period=${ROTATE}s"
export SG_APISERVER_ARGS="--audit-policy-file=$RUN/audit-policy.yaml --audit-log-path=$RUN/logs/audit.log --audit-log-format=json"
export SG_ETCD_PORT=24990 SG_ETCD_PEER_PORT=25000 SG_API_PORT=25010
cleanup() {
  local rc=$?
  if ((rc != 0)); then
    echo "--- diagnostics (cluster in $RUN)" >&2
    k -n "$NS" get pods -o wide >&2 2>&1 || true
    [[ -n ${CID:-} ]] && { echo "--- controller output" >&2; docker logs --tail 30 "$CID" >&2 2>&1 || true; }
    tail -n 20 "$RUN/logs/sg-node-agent.log" >&2 2>/dev/null || true
  fi
  bash "$SG_ROOT/scripts/cluster.sh" down >/dev/null 2>&1 || true
  if [[ ${SG_ROTATION_KEEP:-} == 1 ]]; then echo "kept $RUN" >&2; else rm -rf "$RUN"; fi
  exit "$rc"
}
trap cleanup EXIT

# Only ServiceAccount requests are audited, at Metadata level (no bodies).
mkdir -p "$RUN/logs"
cat >"$RUN/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: None
YAML

t0=$SECONDS
eval "$(bash "$SG_ROOT/scripts/cluster.sh" up | tail -n1)"
export KUBECONFIG
k() { "$CLUSTER_BIN/kubectl" "$@"; }
echo "own cluster up in $((SECONDS - t0)) s ($RUN)"

k apply -f "$SG_ROOT/crds/" >/dev/null
k create namespace "$NS" >/dev/null
k wait --for=condition=Established --timeout=60s crd/schemamigrations.schemagate.dev >/dev/null
wait_for 60 "default ServiceAccount in $NS" k -n "$NS" get serviceaccount default
metrics_port=28480
while (exec 3<>"/dev/tcp/127.0.0.1/$metrics_port") 2>/dev/null; do metrics_port=$((metrics_port + 1)); done
k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: $SA}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: controller}
rules:
- apiGroups: ["", batch, coordination.k8s.io, events.k8s.io, schemagate.dev]
  resources: ["*"]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: controller}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: controller}
subjects: [{kind: ServiceAccount, name: $SA, namespace: $NS}]
---
apiVersion: v1
kind: Pod
metadata: {name: controller}
spec:
  serviceAccountName: $SA
  restartPolicy: Never
  containers:
  - name: controller
    image: $IMAGE
    imagePullPolicy: IfNotPresent
    args: [controller, --namespaces=$NS, --leader-elect=true, --metrics-addr=127.0.0.1:$metrics_port]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
YAML

lease_holder() { k -n "$NS" get lease schemagate-controller -o 'jsonpath={.spec.holderIdentity}'; }
holder_is_pod() { [[ $(lease_holder) == controller ]]; }
wait_for 120 "the controller pod to lead (Lease schemagate-controller held by it)" holder_is_pod
CID=$(k -n "$NS" get pod controller -o 'jsonpath={.status.containerStatuses[0].containerID}')
CID=${CID#docker://}

# The pod's token as the agent published it on the host.
uid=$(k -n "$NS" get pod controller -o 'jsonpath={.metadata.uid}')
vol=$(k -n "$NS" get pod controller -o 'jsonpath={.spec.volumes[?(@.projected)].name}')
TOKEN=$RUN/node/pods/$uid/volumes/$vol/token
[[ -s $TOKEN ]] || fail "no token file at $TOKEN"
jti_of_file() {
  local p
  p=$(cut -d. -f2 <"$TOKEN" | tr '_-' '/+')
  while ((${#p} % 4)); do p+="="; done
  base64 -d <<<"$p" | jq -r .jti
}
published_at() { date -r "$TOKEN" +%s.%N; }

JTIS=("$(jti_of_file)")
PUBLISHED=("$(published_at)")
rotated() { [[ $(jti_of_file) != "${JTIS[-1]}" ]]; }
for i in 1 2; do
  wait_for $((ROTATE * 3)) "token rotation $i" rotated
  JTIS+=("$(jti_of_file)")
  PUBLISHED+=("$(published_at)")
done
echo "tokens: ${JTIS[*]}"

AUDIT=$RUN/logs/audit.log
# One line per request of the pod: <received epoch seconds> <jti> <verb> <resource>
requests() {
  jq -r --arg u "system:serviceaccount:$NS:$SA" '
    select(.stage == "ResponseComplete" and .user.username == $u)
    | [(.requestReceivedTimestamp | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) +
         ((.requestReceivedTimestamp | capture("\\.(?<f>[0-9]+)Z$").f // "0") | ("0." + .) | tonumber),
       ((.user.extra["authentication.kubernetes.io/credential-id"] // ["none"])[0] | sub("^JTI="; "")),
       .verb, (.objectRef.resource // "-")] | @tsv' "$AUDIT"
}
used() {  # used <jti> <after> <n>: n requests with that token received after <after>
  (($(requests | awk -F'\t' -v j="$1" -v t="$2" '$2 == j && $1 > t' | wc -l) >= $3))
}
wait_for 30 "3 requests with the third token" \
  used "${JTIS[2]}" "$(awk -v p="${PUBLISHED[2]}" -v s="$SLACK" 'BEGIN { printf "%.3f", p + s }')" 3

# Every request received more than SLACK s after token i was published (and
# before token i+1 was) used token i; at least 3 such requests per token.
report=$(requests | awk -F'\t' -v slack="$SLACK" \
  -v p0="${PUBLISHED[0]}" -v p1="${PUBLISHED[1]}" -v p2="${PUBLISHED[2]}" \
  -v j0="${JTIS[0]}" -v j1="${JTIS[1]}" -v j2="${JTIS[2]}" '
  BEGIN { p[0] = p0; p[1] = p1; p[2] = p2; p[3] = 1e12; j[0] = j0; j[1] = j1; j[2] = j2 }
  {
    for (i = 0; i < 3; i++) {
      if ($1 > p[i] + slack && $1 < p[i + 1]) {
        checked++; in_window[i]++
        if ($2 != j[i]) { bad++; printf "stale: request %s %s at %.3f used %s, token %d (%s) published at %.3f\n", $3, $4, $1, $2, i, j[i], p[i] }
      }
    }
    for (i = 0; i < 3; i++) if ($2 == j[i]) { n[i]++; if (!(i in first) && i > 0) first[i] = $1 - p[i] }
  }
  END {
    printf "checked %d requests; per token %d %d %d; first use after publication: %.2f s, %.2f s; bad %d\n",
      checked, n[0], n[1], n[2], first[1], first[2], bad + 0
    exit (bad > 0 || in_window[0] < 3 || in_window[1] < 3 || in_window[2] < 3)
  }') || { echo "$report" >&2; fail "the controller did not switch to each rotated token"; }
echo "$report"
pass "in-cluster credentials followed two token rotations (every request after a rotation used the new token)"

k -n "$NS" delete pod controller --wait=false >/dev/null
echo "total $((SECONDS - t0)) s"
