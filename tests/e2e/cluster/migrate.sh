#!/usr/bin/env bash
# A Job running schemagate:dev applies migrations from a ConfigMap volume to
# a local PostgreSQL and completes; a Job whose migration fails ends Failed
# with the runner's exit code 3 and its JSON result as termination message.
source "$(dirname "$0")/lib.sh"
new_namespace e2e-migrate
start_postgres
"${PSQL[@]}" -d postgres -c "create database app" >/dev/null
"${PSQL[@]}" -d postgres -c "create database broken" >/dev/null

k -n "$NS" create configmap migrations \
  --from-literal=0001_create_widgets.up.sql='create table widgets (id bigint primary key, name text not null);' \
  --from-literal=0001_create_widgets.down.sql='drop table widgets;' \
  --from-literal=0002_seed_widgets.up.sql="insert into widgets (id, name) values (1, 'first');" >/dev/null
k -n "$NS" create configmap broken \
  --from-literal=0001_create_gadgets.up.sql='create table gadgets (id bigint primary key);' \
  --from-literal=0002_break.up.sql='insert into no_such_table values (1);' >/dev/null

job() {  # job <name> <configmap> (database = configmap name, or app)
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: schemagate:dev
        imagePullPolicy: IfNotPresent
        args: [migrate, up, --dir, /migrations, --database-url, "postgres://postgres@127.0.0.1:$PG_PORT/${3:-app}?sslmode=disable", --output, json, --termination-log, /dev/termination-log]
        securityContext: {runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
        volumeMounts: [{name: migrations, mountPath: /migrations}]
      volumes: [{name: migrations, configMap: {name: $2}}]
YAML
}

job up migrations
if ! k -n "$NS" wait --for=condition=Complete job/up --timeout=180s >/dev/null; then
  fail "job up did not complete"
fi
rows=$("${PSQL[@]}" -d app -c "select id || ':' || name from widgets")
[[ $rows == "1:first" ]] || fail "widgets holds '$rows'"
pod=$(job_pod up)
t='{.status.containerStatuses[0].state.terminated'
[[ $(pod_field "$pod" "$t.exitCode}") == 0 ]] || fail "exit code"
[[ -n $(pod_field "$pod" "$t.message}") ]] || fail "no termination message from the runner"
pass "Job up completed; widgets migrated; result: $(pod_field "$pod" "$t.message}")"

job broken broken broken
k -n "$NS" wait --for=condition=Failed job/broken --timeout=180s >/dev/null || fail "job broken did not fail"
pod=$(job_pod broken)
code=$(pod_field "$pod" "$t.exitCode}")
msg=$(pod_field "$pod" "$t.message}")
[[ $code == 3 ]] || fail "broken: exitCode '$code', want 3 (migration failed, rolled back)"
[[ -n $msg ]] || fail "broken: empty termination message"
((${#msg} <= 4096)) || fail "broken: termination message longer than 4 KiB"
[[ $msg == *'"exit_code":3'* ]] || fail "broken: termination message does not carry exit_code 3"
pass "Job broken: Failed, exitCode 3, message: $msg"
