#!/usr/bin/env bash
# A Job whose container exits 3 ends Failed, and the exit code, reason and
# termination message are exact in the pod status: the Job controller's
# backoffLimit and podFailurePolicy act on exactly what the node reports.
# (Independent of the runner image: a shell in the seeded base image writes
# its own message.)
source "$(dirname "$0")/lib.sh"
new_namespace e2e-jobfail

job() {  # job <name> <extra spec yaml>
  k -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  backoffLimit: ${3:-0}
$2
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 5
      containers:
      - name: main
        image: debian:bookworm-slim
        imagePullPolicy: Never
        command: ["/bin/sh", "-c"]
        args: ['printf "%s" "{\"result\":\"failed\",\"exitCode\":3}" > /dev/termination-log; echo "log line"; exit 3']
        securityContext: {runAsUser: 65532, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}
YAML
}

# 1. backoffLimit 0: one failed pod fails the Job.
job exit3 ""
k -n "$NS" wait --for=condition=Failed job/exit3 --timeout=180s >/dev/null
reason=$(k -n "$NS" get job exit3 -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}')
[[ $reason == BackoffLimitExceeded ]] || fail "job exit3 failed with reason '$reason'"
pod=$(job_pod exit3)
[[ $(pod_field "$pod" '{.status.phase}') == Failed ]] || fail "pod phase $(pod_field "$pod" '{.status.phase}')"
t='{.status.containerStatuses[0].state.terminated'
code=$(pod_field "$pod" "$t.exitCode}")
why=$(pod_field "$pod" "$t.reason}")
msg=$(pod_field "$pod" "$t.message}")
[[ $code == 3 ]] || fail "exitCode '$code'"
[[ $why == Error ]] || fail "terminated reason '$why'"
[[ $msg == '{"result":"failed","exitCode":3}' ]] || fail "termination message '$msg'"
[[ -n $(pod_field "$pod" "$t.finishedAt}") ]] || fail "no finishedAt"
pass "Job exit3: Failed/BackoffLimitExceeded, pod exitCode 3, reason Error, message $msg"

# 2. podFailurePolicy FailJob on exit code 3, even with retries left.
job policy "  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [3]}" 5
k -n "$NS" wait --for=condition=Failed job/policy --timeout=180s >/dev/null
reason=$(k -n "$NS" get job policy -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}')
[[ $reason == PodFailurePolicy ]] || fail "job policy failed with reason '$reason'"
failed=$(k -n "$NS" get job policy -o 'jsonpath={.status.failed}')
[[ $failed == 1 ]] || fail "job policy: $failed failed pods, want 1 (no retry)"
pass "Job policy: Failed/PodFailurePolicy after exactly one pod"

# 3. FallbackToLogsOnError: no message written, the log tail becomes it.
k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: fallback}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: debian:bookworm-slim
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "echo 'boom: bad things'; exit 7"]
    terminationMessagePolicy: FallbackToLogsOnError
YAML
wait_for 120 "pod fallback terminal" pod_terminal fallback
code=$(pod_field fallback "$t.exitCode}")
msg=$(pod_field fallback "$t.message}")
[[ $code == 7 && $msg == *"boom: bad things"* ]] || fail "fallback: exitCode $code message '$msg'"
pass "FallbackToLogsOnError: exitCode 7, message from logs"

# 4. activeDeadlineSeconds: the Job controller fails the Job and the pod is stopped.
k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: deadline}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 5
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: debian:bookworm-slim
        imagePullPolicy: Never
        command: ["/bin/sh", "-c", "trap 'exit 143' TERM; while :; do sleep 1; done"]
YAML
k -n "$NS" wait --for=condition=Failed job/deadline --timeout=120s >/dev/null
reason=$(k -n "$NS" get job deadline -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}')
[[ $reason == DeadlineExceeded ]] || fail "job deadline failed with reason '$reason'"
wait_for 60 "deadline pods gone" bash -c "[[ -z \$('$KUBECTL_BIN' -n '$NS' get pods -l batch.kubernetes.io/job-name=deadline -o name) ]]"
pass "Job deadline: Failed/DeadlineExceeded, pod deleted"
