#!/usr/bin/env bash
# Tandem's Kustomize manifests (deploy/) against a sandbox KubeSphere host, with kubectl 1.37
# and 1.33 (each embeds its own kustomize): the base and every overlay render, and every
# object of each is accepted by `kubectl apply --dry-run=server` (the server validates and
# answers, stores nothing). Two broken variants must be refused as a real API server refuses
# them, and after all the dry runs no object of Tandem's may exist. Then the base is applied
# for real and an overlay over it.
#   scripts/kustomize-check.sh [path/to/tandem]
set -euo pipefail
cd "$(dirname "$0")/.."
tandem=${1:-target/release/tandem}
tools=target/tools
targets=(base overlays/least-privilege overlays/other-hosts overlays/prometheus)

# kubectl_1_37 and kubectl_1_33 (install on first use, print the path); step, pass, fail,
# expect; stop_sandbox (run on exit) stops the sandbox in $pid and removes $dir.
source scripts/kubectl-lib.sh
trap stop_sandbox EXIT


# The demo fleet's `host`: a KubeSphere host, with the kubesphere-system and
# kube-federation-system namespaces the least-privilege overlay's Roles live in.
dir=$(mktemp -d)
"$tandem" sandbox --data-dir "$dir" >"$dir/sandbox.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q running "$dir/sandbox.log" 2>/dev/null && break; sleep 0.1; done
grep -q running "$dir/sandbox.log" || fail "the sandbox did not start: $(cat "$dir/sandbox.log")"
export KUBECONFIG=$dir/host.kubeconfig

# Counts the objects of a rendered file and the dry-run answers naming one each.
objects() { grep -c '^kind: ' "$1"; }
answers() { grep -c ' (server dry run)$' <<<"$1" || true; }

check() { # path/to/kubectl
  local kubectl=$1 version
  version=$("$kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')
  echo "kubectl $version: Kustomize manifests against a sandbox KubeSphere host:"
  for target in "${targets[@]}"; do
    local rendered=$dir/${target//\//-}.yaml out
    step "render deploy/$target"
    out=$("$kubectl" kustomize "deploy/$target" 2>&1 >"$rendered") || fail "$out"
    pass
    step "dry-run apply its $(objects "$rendered") objects"
    out=$("$kubectl" apply --dry-run=server -f "$rendered" 2>&1) || fail "$out"
    [ "$(answers "$out")" -eq "$(objects "$rendered")" ] && pass || fail "one answer per object expected: $out"
  done

  # The checks above mean something only if the server refuses what a real one refuses.
  local base=$dir/base.yaml
  expect "a selector missing the pod labels is refused" "does not match template" \
    sh -c "sed 's/^        app.kubernetes.io\/name: tandem$/        app.kubernetes.io\/name: other/' '$base' | '$kubectl' apply --dry-run=server -f - 2>&1 || true"
  expect "a misspelt field is refused (strict)" 'unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"' \
    sh -c "sed 's/readOnlyRootFilesystem/readOnlyRootFileSystem/' '$base' | '$kubectl' apply --dry-run=server -f - 2>&1 || true"
  expect "a misspelt ServiceMonitor field is refused" 'unknown field "spec.endpoints[0].scrapeTimeOut"' \
    sh -c "sed 's/scrapeTimeout/scrapeTimeOut/' '$dir/overlays-prometheus.yaml' | '$kubectl' apply --dry-run=server -f - 2>&1 || true"
  expect "no object of Tandem's was stored" "none" \
    sh -c "out=\$('$kubectl' get deployments,poddisruptionbudgets,services,configmaps,secrets,serviceaccounts,roles,rolebindings,servicemonitors -A -l app.kubernetes.io/name=tandem -o name; '$kubectl' get clusterroles,clusterrolebindings -l app.kubernetes.io/name=tandem -o name); echo \"\${out:-none}\""
  expect "the namespace was not changed" "none" \
    sh -c "'$kubectl' get namespace tandem-system -o 'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}{.metadata.annotations}' | grep . || echo none"
  echo "kubectl $version: Kustomize check passed"
}

# Objects in a namespace that does not exist are refused (NotFound), by a real server too,
# even in a dry run; so tandem-system exists beforehand, and the manifests' Namespace is
# dry-run applied as a change to it.
"$(kubectl_1_37)" create namespace tandem-system >/dev/null
# The prometheus overlay's ServiceMonitor needs the Prometheus Operator's CRD (a stand-in).
"$(kubectl_1_37)" apply -f scripts/fixtures/servicemonitor-crd.yaml >/dev/null
check "$(kubectl_1_37)"
check "$(kubectl_1_33)"

# For real now, as an install that changes overlay: the Deployment is patched (strategic merge
# of its pod template) and keeps the base's volume beside the overlay's.
kubectl=$(kubectl_1_37)
echo "kubectl apply of the base, then of an overlay over it:"
expect "apply deploy/base" "deployment.apps/tandem created" "$kubectl" apply -k deploy/base
expect "apply deploy/overlays/other-hosts over it" "deployment.apps/tandem configured" "$kubectl" apply -k deploy/overlays/other-hosts
expect "both volumes are mounted" "/etc/tandem /etc/tandem-hosts/prod" \
  "$kubectl" -n tandem-system get deployment tandem -o 'jsonpath={.spec.template.spec.containers[0].volumeMounts[*].mountPath}'
echo "Kustomize check passed"
