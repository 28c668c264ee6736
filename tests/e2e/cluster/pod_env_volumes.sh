#!/usr/bin/env bash
# A pod's environment and volumes resolve as on a real node: env value with
# $(VAR) expansion, secretKeyRef, configMapKeyRef, fieldRef, envFrom with a
# prefix; ConfigMap (items, mode), Secret, projected (ConfigMap + downwardAPI)
# and emptyDir volumes; init containers run in order before the app
# container; runAsUser and readOnlyRootFilesystem hold.
source "$(dirname "$0")/lib.sh"
new_namespace e2e-env
k -n "$NS" apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue, size: large, "config.yaml": "answer: 42\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: s3cr3t, user: admin}
---
apiVersion: v1
kind: Pod
metadata: {name: envpod, labels: {app: envpod, tier: test}}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 65532, runAsGroup: 65532}
  initContainers:
  - name: first
    image: debian:bookworm-slim
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "echo -n 1 > /work/order"]
    volumeMounts: [{name: scratch, mountPath: /work}]
  - name: second
    image: debian:bookworm-slim
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "test \"$(cat /work/order)\" = 1 && echo -n 2 >> /work/order"]
    volumeMounts: [{name: scratch, mountPath: /work}]
  containers:
  - name: main
    image: debian:bookworm-slim
    imagePullPolicy: Never
    securityContext: {readOnlyRootFilesystem: true}
    env:
    - {name: GREETING, value: hello}
    - {name: MESSAGE, value: "$(GREETING) world $$(GREETING)"}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: creds, key: password}}
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: settings, key: color}}
    - name: MISSING_OK
      valueFrom: {configMapKeyRef: {name: settings, key: nope, optional: true}}
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    - name: POD_NS
      valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
    - name: NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - name: POD_IP
      valueFrom: {fieldRef: {fieldPath: status.podIP}}
    envFrom:
    - {prefix: CM_, configMapRef: {name: settings}}
    - {secretRef: {name: creds}}
    command: ["/bin/sh", "-c"]
    args:
    - |
      o=/dev/termination-log
      echo "message=$MESSAGE" >>$o
      echo "password=$PASSWORD user=$user" >>$o
      echo "color=$COLOR cm_size=$CM_size missing=${MISSING_OK-unset}" >>$o
      echo "pod=$POD_NAME ns_ok=$([ "$POD_NS" = "$(cat /podinfo/namespace)" ] && echo yes) node=$NODE ip=$POD_IP" >>$o
      echo "cfg=$(cat /etc/settings/app.yaml | tr -d '\n') mode=$(stat -L -c %a /etc/settings/app.yaml)" >>$o
      echo "secret=$(cat /etc/creds/password)" >>$o
      echo "labels=$(tr '\n' ',' < /podinfo/labels) color=$(cat /podinfo/color)" >>$o
      echo "order=$(cat /work/order)" >>$o
      echo "uid=$(id -u) gid=$(id -g)" >>$o
      if touch /rootfs-write 2>/dev/null; then echo "rootfs=writable" >>$o; else echo "rootfs=readonly" >>$o; fi
      touch /work/ok && echo "emptydir=writable" >>$o
    volumeMounts:
    - {name: scratch, mountPath: /work}
    - {name: settings, mountPath: /etc/settings}
    - {name: creds, mountPath: /etc/creds}
    - {name: podinfo, mountPath: /podinfo}
  volumes:
  - name: scratch
    emptyDir: {}
  - name: settings
    configMap:
      name: settings
      items: [{key: config.yaml, path: app.yaml, mode: 0444}]
  - name: creds
    secret: {secretName: creds}
  - name: podinfo
    projected:
      sources:
      - configMap: {name: settings, items: [{key: color, path: color}]}
      - downwardAPI:
          items:
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: namespace, fieldRef: {fieldPath: metadata.namespace}}
YAML
wait_for 120 "pod envpod terminal" pod_terminal envpod
msg=$(pod_field envpod '{.status.containerStatuses[0].state.terminated.message}')
echo "$msg"
[[ $(pod_field envpod '{.status.phase}') == Succeeded ]] || fail "phase $(pod_field envpod '{.status.phase}')"
expect() { grep -qxF -- "$1" <<<"$msg" || fail "expected line: $1"; }
expect 'message=hello world $(GREETING)'
expect 'password=s3cr3t user=admin'
expect 'color=blue cm_size=large missing=unset'
expect "pod=envpod ns_ok=yes node=$(pod_field envpod '{.spec.nodeName}') ip=$(pod_field envpod '{.status.podIP}')"
expect 'cfg=answer: 42 mode=444'
expect 'secret=s3cr3t'
expect 'labels=app="envpod",tier="test" color=blue'
expect 'order=12'
expect 'uid=65532 gid=65532'
expect 'rootfs=readonly'
expect 'emptydir=writable'
for i in 0 1; do
  [[ $(pod_field envpod "{.status.initContainerStatuses[$i].state.terminated.reason}") == Completed ]] || fail "init $i not Completed"
done
pass "env, volumes, init order and security context resolve"
