#!/usr/bin/env bash
# kubectl and the API server both report the pinned Kubernetes release.
source "$(dirname "$0")/lib.sh"
server=$(k get --raw /version | grep -o '"gitVersion": *"[^"]*"' | sed 's/.*"\(v[^"]*\)"/\1/')
client=$(k version --client -o json | grep -o '"gitVersion": *"[^"]*"' | sed 's/.*"\(v[^"]*\)"/\1/')
[[ $server == "$KUBE_VERSION" ]] || fail "server reports '$server', pinned $KUBE_VERSION"
[[ $client == "$KUBE_VERSION" ]] || fail "kubectl reports '$client', pinned $KUBE_VERSION"
kubelet=$(k get nodes -o 'jsonpath={.items[0].status.nodeInfo.kubeletVersion}')
[[ $kubelet == "$KUBE_VERSION" ]] || fail "node reports '$kubelet'"
pass "server, kubectl and node report $KUBE_VERSION"
