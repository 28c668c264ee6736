#!/usr/bin/env python3
"""Asserts what the schemagate chart renders (helm template output on stdin).

usage: check_rendered.py <mode> [watched namespaces...] < rendered.yaml
  cluster     default values: cluster-wide RBAC, no ServiceMonitor
  namespaced  watchNamespaces set: a Role per listed namespace, no cluster-wide
              access beyond the wait ClusterRole; ServiceMonitor enabled
Exits 1 listing every failed expectation.
"""
import sys

import yaml

RELEASE_NS = "sg-system"
FAILURES = []


def expect(cond, what):
    if not cond:
        FAILURES.append(what)


def rules_of(obj):
    return {(g, r): set(rule["verbs"]) for rule in obj.get("rules", [])
            for g in rule["apiGroups"] for r in rule["resources"]}


# Exactly what src/controller and src/kube call per watched namespace: no
# wildcard, no Secrets, no deletes, no get/update nobody calls.
WORKLOAD_RULES = {
    ("schemagate.dev", "schemamigrations"): {"list", "watch", "patch"},
    ("schemagate.dev", "schemamigrations/status"): {"patch"},
    ("schemagate.dev", "schemamigrations/finalizers"): {"update"},
    ("", "configmaps"): {"list", "watch"},
    ("", "pods"): {"list", "watch"},
    ("batch", "jobs"): {"list", "watch", "create"},
    ("events.k8s.io", "events"): {"create", "patch"},
}
LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "update", "patch"}}
WAIT_RULES = {("schemagate.dev", "schemamigrations"): {"get", "list", "watch"}}


def main():
    mode, watched = sys.argv[1], sys.argv[2:]
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        labels = d["metadata"].get("labels", {})
        if d["kind"] != "CustomResourceDefinition":
            for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance",
                        "app.kubernetes.io/version", "app.kubernetes.io/managed-by",
                        "helm.sh/chart"):
                expect(key in labels, f"{d['kind']}/{d['metadata']['name']}: label {key} missing")
        ns = d["metadata"].get("namespace")
        cluster_scoped = d["kind"] in ("ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition")
        expect(cluster_scoped or ns, f"{d['kind']}/{d['metadata']['name']}: no namespace")

    # The Deployment: replicas, leader election, probes, restricted pod.
    (dep,) = by_kind["Deployment"]
    spec = dep["spec"]
    expect(spec["replicas"] == 2, "replicas != 2")
    pod = spec["template"]["spec"]
    (c,) = pod["containers"]
    args = c["args"]
    expect(args[0] == "controller", "first arg is not the controller subcommand")
    expect("--leader-elect=true" in args, "leader election not on")
    expect("--metrics-addr=$(POD_IP):8080" in args, f"metrics not bound to the pod IP: {args}")
    expect("--job-image=schemagate:dev" in args, "job image is not the operator image")
    env = {e["name"]: e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") for e in c["env"]}
    expect(env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace",
                   "POD_IP": "status.podIP"}, f"downward API env: {env}")
    expect(c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}, "liveness probe")
    expect(c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}, "readiness probe")
    sc, psc = c["securityContext"], pod["securityContext"]
    expect(psc.get("runAsNonRoot") is True and psc.get("seccompProfile") == {"type": "RuntimeDefault"},
           "pod securityContext not restricted")
    expect(sc.get("runAsNonRoot") is True and sc.get("readOnlyRootFilesystem") is True
           and sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities") == {"drop": ["ALL"]}
           and sc.get("seccompProfile") == {"type": "RuntimeDefault"}, f"container securityContext: {sc}")
    expect(c.get("resources", {}).get("requests"), "no resource requests")
    keys = [t["topologyKey"] for t in pod.get("topologySpreadConstraints", [])]
    expect(keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"], f"topology spread: {keys}")
    selector = spec["selector"]["matchLabels"]
    for t in pod["topologySpreadConstraints"]:
        expect(t["labelSelector"]["matchLabels"] == selector, "spread selector != Deployment selector")
    sa = pod["serviceAccountName"]
    expect([s["metadata"]["name"] for s in by_kind["ServiceAccount"]] == [sa], "ServiceAccount")

    (pdb,) = by_kind["PodDisruptionBudget"]
    expect(pdb["spec"]["minAvailable"] == 1 and pdb["spec"]["selector"]["matchLabels"] == selector, "PDB")
    (svc,) = by_kind["Service"]
    expect(svc["spec"]["ports"][0]["targetPort"] == "metrics" and svc["spec"]["selector"] == selector,
           "metrics Service")
    expect(len(by_kind.get("CustomResourceDefinition", [])) == 1, "the CRD is not rendered (--include-crds)")

    # RBAC.
    roles = {(r["metadata"].get("namespace"), r["metadata"]["name"]): r for r in by_kind.get("Role", [])}
    croles = {r["metadata"]["name"]: r for r in by_kind.get("ClusterRole", [])}
    leases = roles.get((RELEASE_NS, "schemagate-leases"))
    expect(leases is not None and rules_of(leases) == LEASE_RULES, "lease Role in the release namespace")
    expect("schemagate-wait" in croles and rules_of(croles["schemagate-wait"]) == WAIT_RULES,
           "wait ClusterRole")
    for binding in by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", []):
        expect(binding["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": RELEASE_NS}],
               f"{binding['kind']}/{binding['metadata']['name']} binds {binding['subjects']}")
    for r in list(roles.values()) + list(croles.values()):
        for rule in r["rules"]:
            expect("*" not in rule["verbs"] and "*" not in rule["resources"],
                   f"wildcard in {r['kind']}/{r['metadata']['name']}")
            expect("secrets" not in rule["resources"], f"{r['kind']}/{r['metadata']['name']} grants Secrets")
    if mode == "cluster":
        expect(set(croles) == {"schemagate", "schemagate-wait"}, f"ClusterRoles: {sorted(croles)}")
        expect(rules_of(croles.get("schemagate", {})) == WORKLOAD_RULES, "cluster-wide workload rules")
        expect([b["roleRef"]["name"] for b in by_kind.get("ClusterRoleBinding", [])] == ["schemagate"],
               "ClusterRoleBinding")
        expect(set(roles) == {(RELEASE_NS, "schemagate-leases")}, f"Roles: {sorted(roles)}")
        expect("ServiceMonitor" not in by_kind, "ServiceMonitor rendered though disabled")
        expect(not any(a.startswith("--namespaces") for a in args), "--namespaces set in cluster mode")
    else:
        expect(set(croles) == {"schemagate-wait"}, f"namespaced mode has ClusterRoles {sorted(croles)}")
        expect("ClusterRoleBinding" not in by_kind, "namespaced mode has a ClusterRoleBinding")
        want = {(ns, "schemagate") for ns in watched} | {(RELEASE_NS, "schemagate-leases")}
        expect(set(roles) == want, f"Roles {sorted(roles)}, want {sorted(want)}")
        for ns in watched:
            expect(rules_of(roles.get((ns, "schemagate"), {})) == WORKLOAD_RULES, f"Role in {ns}")
        expect(f"--namespaces={','.join(watched)}" in args, f"--namespaces not passed: {args}")
        (sm,) = by_kind.get("ServiceMonitor", [None])
        expect(sm and sm["spec"]["endpoints"][0]["port"] == "metrics", "ServiceMonitor")

    if FAILURES:
        print(f"check_rendered ({mode}): {len(FAILURES)} failure(s)", file=sys.stderr)
        for f in FAILURES:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(f"check_rendered ({mode}): {len(docs)} objects as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
