#!/usr/bin/env bash
# Node-agent lifecycle semantics the operator relies on: a Deployment with a
# readiness probe becomes Available; restartPolicy OnFailure restarts a failed
# container (restartCount, lastState); deleting a running pod stops and
# removes its container; a missing image or Secret is reported with the
# kubelet's waiting reasons.
source "$(dirname "$0")/lib.sh"
new_namespace e2e-life
k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 3
      containers:
      - name: main
        image: debian:bookworm-slim
        imagePullPolicy: Never
        command: ["/bin/sh", "-c", "sleep 2; touch /tmp/ready; trap 'exit 0' TERM; while :; do sleep 1; done"]
        readinessProbe:
          exec: {command: ["test", "-f", "/tmp/ready"]}
          periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: retry}
spec:
  restartPolicy: OnFailure
  containers:
  - name: main
    image: debian:bookworm-slim
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "if [ -f /state/ran ]; then exit 0; fi; touch /state/ran; exit 1"]
    volumeMounts: [{name: state, mountPath: /state}]
  volumes: [{name: state, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: "schemagate-e2e/absent:1", imagePullPolicy: Never}
---
apiVersion: v1
kind: Pod
metadata: {name: nosecret}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: debian:bookworm-slim
    imagePullPolicy: Never
    env: [{name: X, valueFrom: {secretKeyRef: {name: absent, key: k}}}]
YAML

k -n "$NS" wait --for=condition=Available deployment/web --timeout=120s >/dev/null
pass "Deployment web Available (readiness probe)"

wait_for 30 "noimage waiting reason" bash -c "[[ \$('$KUBECTL_BIN' -n '$NS' get pod noimage -o 'jsonpath={.status.containerStatuses[0].state.waiting.reason}') == ErrImageNeverPull ]]"
wait_for 30 "nosecret waiting reason" bash -c "[[ \$('$KUBECTL_BIN' -n '$NS' get pod nosecret -o 'jsonpath={.status.containerStatuses[0].state.waiting.reason}') == CreateContainerConfigError ]]"
[[ $(pod_field noimage '{.status.phase}') == Pending ]] || fail "noimage not Pending"
pass "missing image -> ErrImageNeverPull, missing Secret -> CreateContainerConfigError"

wait_for 120 "pod retry terminal" pod_terminal retry
[[ $(pod_field retry '{.status.phase}') == Succeeded ]] || fail "retry phase $(pod_field retry '{.status.phase}')"
[[ $(pod_field retry '{.status.containerStatuses[0].restartCount}') == 1 ]] || fail "retry restartCount"
[[ $(pod_field retry '{.status.containerStatuses[0].lastState.terminated.exitCode}') == 1 ]] || fail "retry lastState"
pass "OnFailure: restarted once after exit 1, then Succeeded"

pod=$(k -n "$NS" get pods -l app=web -o 'jsonpath={.items[0].metadata.name}')
uid=$(pod_field "$pod" '{.metadata.uid}')
[[ -n $(docker ps -q --filter "label=io.kubernetes.pod.uid=$uid") ]] || fail "no running container for $pod"
k -n "$NS" delete pod "$pod" --timeout=60s >/dev/null
wait_for 60 "containers of $pod removed" bash -c "[[ -z \$(docker ps -a -q --filter label=io.kubernetes.pod.uid=$uid) ]]"
k -n "$NS" wait --for=condition=Available deployment/web --timeout=120s >/dev/null
pass "deleted pod stopped and removed; Deployment replaced it"
