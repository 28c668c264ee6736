#!/usr/bin/env bash
# The SchemaMigration CRD (crds/) applies to the real API server, is served
# with its short name and printer columns, defaults fields, and rejects
# invalid objects with messages naming the field.
source "$SG_ROOT/tests/e2e/cluster/lib.sh"
k apply -f "$SG_ROOT/crds/" >/dev/null
k wait --for=condition=Established crd/schemamigrations.schemagate.dev --timeout=60s >/dev/null ||
  fail "CRD not established"
new_namespace e2e-crd
wait_for 30 "short name sm served" k -n "$NS" get sm

# apply_expect_error <substring>... < yaml: the apply must fail naming each substring.
apply_expect_error() {
  local out
  if out=$(k -n "$NS" apply -f - 2>&1); then fail "invalid object accepted: $out"; fi
  for want in "$@"; do
    [[ $out == *"$want"* ]] || fail "rejection does not mention '$want': $out"
  done
  pass "rejected: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
}

apply_expect_error "set exactly one of database.secretRef or database.host" \
  "set source.image, or source.configMaps" "spec.runner.lockTimeout" <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: bad}
spec:
  database: {secretRef: {name: db}, host: db.example, dbname: app}
  source: {configMaps: [m], image: {ref: migrations:1}}
  runner: {lockTimeout: "5 seconds"}
YAML

apply_expect_error "database.dbname is required with database.host" <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: bad2}
spec:
  database: {host: db.example}
  source: {configMaps: [m]}
YAML

apply_expect_error "spec.allowDown needs an explicit spec.targetVersion" \
  "source.configMapSelector must not be empty" <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: bad3}
spec:
  database: {secretRef: {name: db}}
  source: {configMapSelector: {}}
  allowDown: true
YAML

apply_expect_error "spec.targetVersion" "spec.job.activeDeadlineSeconds" <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: bad4}
spec:
  database: {secretRef: {name: db}}
  source: {configMaps: [m]}
  targetVersion: -1
  job: {activeDeadlineSeconds: 0}
YAML

k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: schemagate.dev/v1alpha1
kind: SchemaMigration
metadata: {name: good}
spec:
  database: {secretRef: {name: db}}
  source: {configMaps: [m]}
  job: {image: schemagate:dev}
YAML
key=$(k -n "$NS" get sm good -o 'jsonpath={.spec.database.secretRef.key}')
[[ $key == url ]] || fail "secretRef.key not defaulted to url (got '$key')"
ads=$(k -n "$NS" get sm good -o 'jsonpath={.spec.job.activeDeadlineSeconds}')
[[ $ads == 600 ]] || fail "job.activeDeadlineSeconds not defaulted to 600 (got '$ads')"
# No `| head` here: under pipefail a SIGPIPE'd kubectl would end the script
# silently.
cols=$(k -n "$NS" get sm good)
cols=${cols%%$'\n'*}
for c in NAME DATABASE APPLIED TARGET READY REASON AGE; do
  [[ $cols == *"$c"* ]] || fail "printer column $c missing: $cols"
done
# The OpenAPI document is republished after every CRD apply (other checks
# apply it too), and `grep -q` under pipefail can SIGPIPE kubectl: compare a
# captured output, retried until the deadline.
explain_has_identity() { [[ $(k explain schemamigrations.spec.database.identity 2>&1) == *"same identity"* ]]; }
wait_for 60 "kubectl explain to show the identity description" explain_has_identity
pass "valid object accepted with defaults; printer columns: $cols"
