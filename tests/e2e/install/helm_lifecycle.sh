#!/usr/bin/env bash
# The Helm install path end to end on the local cluster, with the image built
# from our Dockerfile and nothing but the chart's RBAC:
# - `helm install` into a namespace enforcing the restricted Pod Security
#   Standard (a non-compliant pod there is rejected: the label is live):
#   2 replicas Ready (probes on /healthz and /readyz at their pod IPs), one
#   leader (Lease holder, schemagate_leader 1 and 0), the PDB allows one
#   disruption, the ServiceAccount may do exactly what the chart grants;
# - the example of manifests/examples/app (SchemaMigration with a ConfigMap
#   source, the RoleBinding to the chart's wait ClusterRole, a Deployment
#   gated by `schemagate wait`) in a restricted namespace against a real
#   PostgreSQL on loopback: Ready at version 3 with one Job; the Deployment
#   becomes Available;
# - the PDB: evicting the leader is allowed, a second eviction is refused;
#   another replica takes the leader Lease over, a replacement turns Ready;
# - `helm upgrade` widening watchNamespaces: a Role in the new namespace, new
#   pods, a SchemaMigration there turns Ready, the first one gets no new Job;
# - `helm uninstall`: no Deployment, pods, ServiceAccount, Roles, bindings,
#   ClusterRoles, Service, PDB or release Secret left; the CRD stays (Helm
#   never deletes crds/: that would delete every SchemaMigration), and no
#   Lease of the operator is renewed any more (released or expired).
# The operator watches only this test's namespaces, so it cannot touch other
# tests' SchemaMigrations on the shared cluster.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
source "$(dirname "$0")/lib_install.sh"
apply_crd
restricted_namespace SYS e2e-sg-sys
restricted_namespace APP_A e2e-sg-a
restricted_namespace APP_B e2e-sg-b
NS=$APP_A  # diagnostics on failure
REL=sgi$RANDOM
FULL=$REL-schemagate
SA=$FULL
CLEANUPS+=("h uninstall $REL -n $SYS --wait --timeout 60s >/dev/null 2>&1")
start_postgres
"${PSQL[@]}" -d postgres -c "create database accounts" -c "create database billing" >/dev/null

# The namespace really enforces "restricted": a pod without a securityContext is refused.
if out=$(k -n "$SYS" run not-restricted --image="$IMAGE_REPO:$IMAGE_TAG" --restart=Never 2>&1); then
  fail "a non-restricted pod was admitted in $SYS"
fi
grep -q "violates PodSecurity \"restricted" <<<"$out" || fail "unexpected rejection: $out"
pass "namespace $SYS enforces the restricted Pod Security Standard"

t0=$SECONDS
h install "$REL" "$CHART" -n "$SYS" --wait --timeout 180s \
  --set image.repository="$IMAGE_REPO" --set image.tag="$IMAGE_TAG" --set image.pullPolicy=Never \
  --set "watchNamespaces={$APP_A}" --set logFormat=json >/dev/null ||
  fail "helm install failed: $(k -n "$SYS" get pods,events 2>&1 | tail -n 20)"
pass "helm install --wait returned after $((SECONDS - t0))s"

pods() { k -n "$SYS" get pods -l "app.kubernetes.io/instance=$REL" -o "jsonpath=$1"; }
ready_pods() {
  [[ $(pods '{range .items[*]}{.metadata.deletionTimestamp}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -cx True) == "$1" ]] && [[ $(pods '{.items[*].metadata.name}' | wc -w) == "$1" ]]
}
wait_for 120 "2 Ready operator pods" ready_pods 2
read -r -a ips <<<"$(pods '{.items[*].status.podIP}')"
[[ ${ips[0]} != "${ips[1]}" ]] ||
  fail "both operator pods report pod IP ${ips[0]}: the node agent is older than per-pod IPs (restart the cluster: scripts/cluster.sh down && up)"
[[ $(pods '{.items[*].spec.serviceAccountName}') == "$SA $SA" ]] || fail "pods do not run as $SA"
[[ $(pods '{.items[0].spec.containers[0].securityContext.readOnlyRootFilesystem}') == true ]] || fail "root filesystem writable"
leader_holder() { k -n "$SYS" get lease schemagate-controller -o 'jsonpath={.spec.holderIdentity}'; }
wait_for 60 "a leader" bash -c "[[ -n \$($KUBECTL_BIN -n $SYS get lease schemagate-controller -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null) ]]"
leader=$(leader_holder)
metric() { curl -fsS "http://$1:8080/metrics" | awk -v s="$2" '$1 == s { print $2 }'; }
for ip in "${ips[@]}"; do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$ip:8080/healthz") == 200 ]] || fail "/healthz on $ip"
done
leader_metrics() { local ip; for ip in "${ips[@]}"; do printf '%s ' "$(metric "$ip" schemagate_leader)"; done; }
one_leader() { [[ $(leader_metrics) == "1 0 " || $(leader_metrics) == "0 1 " ]]; }
# The Lease is written just before the new leader's callback sets the gauge.
wait_for 30 "one replica with schemagate_leader 1, the other 0" one_leader
leaders=$(leader_metrics)
[[ " $(pods '{.items[*].metadata.name}') " == *" $leader "* ]] || fail "Lease holder $leader is not an operator pod"
pass "2 replicas Ready at pod IPs ${ips[*]}, one leader ($leader), schemagate_leader $leaders"
wait_for 60 "the PDB to allow one disruption" bash -c \
  "[[ \$($KUBECTL_BIN -n $SYS get pdb $FULL -o 'jsonpath={.status.disruptionsAllowed}') == 1 ]]"
[[ -n $(k -n "$SYS" get service "$FULL-metrics" -o 'jsonpath={.spec.ports[0].port}') ]] || fail "no metrics Service"
pass "PodDisruptionBudget allows 1 disruption; metrics Service present"

# Exactly the chart's RBAC.
# can <verb> <resource> [-n ns]: yes or no (can-i exits 1 on "no").
can() { k auth can-i "$@" --as "system:serviceaccount:$SYS:$SA" 2>/dev/null || true; }
for a in "create jobs.batch -n $APP_A" "delete jobs.batch -n $APP_A" "list pods -n $APP_A" \
  "watch configmaps -n $APP_A" \
  "patch schemamigrations.schemagate.dev/status -n $APP_A" "create events.events.k8s.io -n $APP_A" \
  "update leases.coordination.k8s.io -n $SYS"; do
  # shellcheck disable=SC2086
  [[ $(can $a) == yes ]] || fail "the operator may not: $a"
done
for a in "get secrets -n $APP_A" "delete pods -n $APP_A" "list jobs.batch -n $APP_B" \
  "update schemamigrations.schemagate.dev -n $APP_A" "delete schemamigrations.schemagate.dev -n $APP_A" \
  "create leases.coordination.k8s.io -n $APP_A" "list schemamigrations.schemagate.dev -n default" \
  "create pods -n $APP_A"; do
  # shellcheck disable=SC2086
  [[ $(can $a) == no ]] || fail "the operator may: $a"
done
pass "the ServiceAccount has the chart's grants and nothing more (no Secrets, no other namespaces)"

# The example app: SchemaMigration (ConfigMap source) + wait RoleBinding + gated Deployment.
EX=$SG_ROOT/manifests/examples/app
example() {  # example <file> <namespace>: the example with its namespace and names swapped in
  sed -e "s/namespace: shop/namespace: $2/" -e "s/name: schemagate-wait/name: $FULL-wait/" \
    -e "s#image: registry.example/shop/api:1.0.0.*#image: debian:bookworm-slim\n        imagePullPolicy: Never\n        command: [sleep, infinity]#" \
    -e "s#image: schemagate:dev#image: $IMAGE_REPO:$IMAGE_TAG#" "$EX/$1"
}
t0=$SECONDS
k -n "$APP_A" create secret generic accounts-db \
  --from-literal=url="$(db_url accounts)" >/dev/null
k -n "$APP_A" create configmap accounts-migrations --from-file="$SG_ROOT/manifests/examples/migrations/" >/dev/null
for f in wait-rbac.yaml deployment.yaml schemamigration.yaml; do example "$f" "$APP_A" | k apply -f - >/dev/null; done
k -n "$APP_A" wait --for=condition=Ready sm/accounts --timeout=180s >/dev/null ||
  fail "sm/accounts not Ready: $(k -n "$APP_A" get sm accounts -o jsonpath='{.status}')"
ready_after=$((SECONDS - t0))
[[ $(k -n "$APP_A" get sm accounts -o 'jsonpath={.status.appliedVersion}') == 3 ]] || fail "appliedVersion not 3"
jobs_in() { k -n "$1" get jobs -l schemagate.dev/migration="$2" -o name | wc -l; }
(($(jobs_in "$APP_A" accounts) == 1)) || fail "$(jobs_in "$APP_A" accounts) Jobs for sm/accounts, want 1"
[[ $("${PSQL[@]}" -d accounts -c "select count(*) from pg_indexes where indexname='accounts_email_key'") == 1 ]] ||
  fail "the example's version 3 index is missing"
k -n "$APP_A" wait --for=condition=Available deployment/api --timeout=120s >/dev/null || fail "deployment/api not Available"
# The database Lease (a hashed name) carries the identity it locks, written
# when it is created: the chart grants no patch on Leases.
db_identity=$(k -n "$APP_A" get sm accounts -o 'jsonpath={.status.database.identity}')
lease_identity=$(k -n "$SYS" get leases -l app.kubernetes.io/managed-by=schemagate \
  -o 'jsonpath={.items[*].metadata.annotations.schemagate\.dev/database-identity}')
[[ -n $db_identity && $lease_identity == "$db_identity" ]] ||
  fail "database Lease annotated '$lease_identity', want the status identity '$db_identity'"
pass "example: sm/accounts Ready at version 3 with one Job in a restricted namespace ${ready_after}s after apply; deployment/api (gated by schemagate wait) Available after $((SECONDS - t0))s"

# The PodDisruptionBudget at work, and leader election through the chart's
# RBAC: evicting the leader is allowed, a second eviction right after is
# refused; another replica takes the Lease over; the replacement turns Ready.
evict() {
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"%s"}}' "$1" "$SYS" |
    k create --raw "/api/v1/namespaces/$SYS/pods/$1/eviction" -f - 2>&1
}
leader=$(leader_holder)
standby=$(pods '{.items[*].metadata.name}' | tr ' ' '\n' | grep -vx "$leader")
t0=$SECONDS
out=$(evict "$leader") || fail "eviction of the leader $leader refused: $out"
if out=$(evict "$standby"); then fail "a second eviction was admitted: the PDB is not enforced"; fi
grep -q "disruption budget" <<<"$out" || fail "second eviction refused for another reason: $out"
# Whichever candidate tries first after the release leads: the standby
# (retrying every 2 s) or the replacement pod starting meanwhile.
new_leader() {
  local h
  h=$(leader_holder)
  [[ -n $h && $h != "$leader" ]] && [[ " $(pods '{.items[*].metadata.name}') " == *" $h "* ]]
}
wait_for 60 "a new leader after evicting $leader" new_leader
took=$((SECONDS - t0))
now_leading=$(leader_holder)
wait_for 120 "2 Ready operator pods after the eviction" ready_pods 2
[[ $(metric "$(k -n "$SYS" get pod "$now_leading" -o 'jsonpath={.status.podIP}')" schemagate_leader) == 1 ]] ||
  fail "the new leader $now_leading does not report schemagate_leader 1"
who=replacement; [[ $now_leading == "$standby" ]] && who=standby
pass "PDB: leader evicted, a second eviction refused; the $who $now_leading leads after ${took}s; 2 replicas Ready again"

# helm upgrade: watch a second namespace too, debug logs.
old_pods=$(pods '{.items[*].metadata.name}')
t0=$SECONDS
h upgrade "$REL" "$CHART" -n "$SYS" --reuse-values --wait --timeout 180s \
  --set "watchNamespaces={$APP_A,$APP_B}" --set logLevel=debug >/dev/null || fail "helm upgrade failed"
wait_for 120 "2 Ready operator pods after the upgrade" ready_pods 2
for p in $(pods '{.items[*].metadata.name}'); do
  [[ " $old_pods " != *" $p "* ]] || fail "pod $p survived the upgrade"
done
[[ $(k -n "$SYS" get deployment "$FULL" -o 'jsonpath={.spec.template.spec.containers[0].args}') == *"--namespaces=$APP_A,$APP_B"* ]] ||
  fail "upgrade did not pass both namespaces"
[[ $(can list jobs.batch -n "$APP_B") == yes ]] || fail "no Role in $APP_B after the upgrade"
pass "helm upgrade rolled new pods in $((SECONDS - t0))s, Role added in $APP_B"
k -n "$APP_B" create secret generic billing-db \
  --from-literal=url="$(db_url billing)" >/dev/null
k -n "$APP_B" create configmap billing-migrations \
  --from-literal=0001_invoices.up.sql='create table invoices (id bigint primary key);' >/dev/null
k -n "$APP_B" apply -f - >/dev/null <<YAML
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: billing}
spec:
  database: {secretRef: {name: billing-db}}
  source: {configMaps: [billing-migrations]}
YAML
k -n "$APP_B" wait --for=condition=Ready sm/billing --timeout=180s >/dev/null ||
  fail "sm/billing not Ready after the upgrade: $(k -n "$APP_B" get sm billing -o jsonpath='{.status}')"
(($(jobs_in "$APP_A" accounts) == 1)) || fail "the new leader started another Job for sm/accounts"
[[ $(k -n "$APP_A" get sm accounts -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]] ||
  fail "sm/accounts no longer Ready after the upgrade"
pass "after the upgrade: sm/billing in $APP_B Ready; sm/accounts still Ready with one Job"

# helm uninstall: nothing of the release is left but the CRD.
h uninstall "$REL" -n "$SYS" --wait --timeout 120s >/dev/null || fail "helm uninstall failed"
wait_for 90 "operator pods gone" bash -c "[[ -z \$($KUBECTL_BIN -n $SYS get pods -l app.kubernetes.io/instance=$REL -o name) ]]"
# leftovers: what of the release still exists (stderr dropped: "No resources
# found" goes there). Garbage collection (EndpointSlices, ReplicaSets) is
# asynchronous: poll with a deadline.
leftovers() {
  k get -n "$SYS" deployments,replicasets,pods,serviceaccounts,services,endpointslices,poddisruptionbudgets,roles,rolebindings,configmaps,secrets \
    -l "app.kubernetes.io/instance=$REL" -o name 2>/dev/null || true
  local ns
  for ns in "$APP_A" "$APP_B"; do
    k get -n "$ns" roles,rolebindings -l "app.kubernetes.io/instance=$REL" -o name 2>/dev/null || true
  done
  k get clusterroles,clusterrolebindings -l "app.kubernetes.io/instance=$REL" -o name 2>/dev/null || true
  k get clusterrole "$FULL-wait" -o name 2>/dev/null || true
  k -n "$SYS" get secrets -l "owner=helm,name=$REL" -o name 2>/dev/null || true
  k -n "$SYS" get serviceaccount "$SA" -o name 2>/dev/null || true
}
deadline=$((SECONDS + 90))
until [[ -z $(leftovers) ]]; do
  ((SECONDS < deadline)) || fail "left behind 90 s after helm uninstall: $(leftovers | tr '\n' ' ')"
  sleep 1
done
k get crd schemamigrations.schemagate.dev >/dev/null || fail "the CRD was deleted"
[[ $(k -n "$APP_A" get sm accounts -o 'jsonpath={.status.appliedVersion}') == 3 ]] || fail "sm/accounts lost"
# The operator's Leases are runtime state, not chart objects. Helm deletes
# the Deployment and the RBAC in one go, so a stopping replica may already
# be refused the release of its leader Lease; then it expires. Either way
# nothing renews a Lease after the uninstall: each ends released (no
# holder) or expired (renewTime + leaseDurationSeconds passed).
leases() { k -n "$SYS" get leases -o 'jsonpath={range .items[*]}{.metadata.name}|{.spec.holderIdentity}|{.spec.renewTime}|{.spec.leaseDurationSeconds}{"\n"}{end}'; }
live_leases() {
  local name holder renew dur now
  now=$(date +%s)
  while IFS='|' read -r name holder renew dur; do
    [[ -z $name || -z $holder || -z $renew ]] && continue
    # A released Lease has no holder; renewTime is RFC 3339 with microseconds.
    (($(date -d "$renew" +%s) + dur >= now)) && echo "$name($holder)"
  done <<<"$(leases)"
  return 0
}
deadline=$((SECONDS + 90))
until [[ -z $(live_leases) ]]; do
  ((SECONDS < deadline)) || fail "Leases still renewed 90 s after helm uninstall: $(live_leases)"
  sleep 1
done
released=$(leases | awk -F'|' '$2 == "" {n++} END {print n + 0}')
pass "helm uninstall: no Deployment/pods/ServiceAccount/RBAC/Service/PDB/release Secret left; CRD and SchemaMigrations kept; no Lease renewed any more ($(leases | wc -l) in $SYS, $released released, the rest expired; they go with the namespace)"
