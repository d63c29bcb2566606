#!/usr/bin/env bash
# How long the console takes from start to ready (/readyz answering 200) on a sandbox host,
# as the image runs it (podman, host network, the configuration mounted read-only), or as a
# plain binary when given a path instead of an image. Prints one line with the milliseconds.
#   scripts/start-to-ready.sh [localhost/tandem:dev | path/to/tandem]
set -euo pipefail
cd "$(dirname "$0")/.."
subject=${1:-localhost/tandem:dev}
sandbox=target/release/tandem
[ -x "$sandbox" ] || sandbox=target/debug/tandem

dir=$(mktemp -d)
name=tandem-ready-$$
cleanup() {
  [ -x "$subject" ] || podman rm -f "$name" >/dev/null 2>&1 || true
  [ -n "${console:-}" ] && kill "$console" 2>/dev/null || true
  [ -n "${fleet:-}" ] && kill "$fleet" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$sandbox" sandbox --data-dir "$dir" >"$dir/sandbox.log" 2>&1 &
fleet=$!
for _ in $(seq 300); do grep -q running "$dir/sandbox.log" 2>/dev/null && break; sleep 0.1; done
grep -q running "$dir/sandbox.log" || { echo "the sandbox did not start: $(cat "$dir/sandbox.log")" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'listen: 127.0.0.1:%s\nhosts:\n  - name: host\n    kubeconfig: host.kubeconfig\n' "$port" >"$dir/tandem.yaml"

start=$(date +%s%N)
if [ -x "$subject" ]; then
  "$subject" serve --config "$dir/tandem.yaml" >"$dir/console.log" 2>&1 &
else
  podman run --rm --name "$name" --network host -v "$dir:/config:ro" "$subject" \
    serve --config /config/tandem.yaml >"$dir/console.log" 2>&1 &
fi
console=$!
for _ in $(seq 600); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then
    echo "$subject: ready after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    exit 0
  fi
  sleep 0.05
done
echo "$subject: not ready after 30 s: $(tail -5 "$dir/console.log")" >&2
exit 1
