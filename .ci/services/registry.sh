# A local image registry (the reference registry, Debian's docker-registry) for the push tests.
# Sourced by .ci/run; exports PACK_TEST_REGISTRY=127.0.0.1:PORT (plain HTTP on loopback, which Docker and
# pack's buildah push treat as an insecure registry) and stops the registry when the CI shell exits.
# It must not fail the run: without it the push tests skip with their reason.

pack_registry_service() {
  local cache="${PACK_CI_CACHE:-$HOME/.cache/pack-ci}"
  if ! command -v docker-registry >/dev/null 2>&1; then
    echo "installing docker-registry (Debian package)"
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; } \
      || { echo "registry: cannot install docker-registry; push tests will be skipped"; return 0; }
  fi
  # The Debian package starts a registry on :5000 with its own config; ours is private and on loopback.
  local home port config
  home=$(mktemp -d "${TMPDIR:-/tmp}/pack-registry.XXXXXX")
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  config="$home/config.yml"
  cat >"$config" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $home/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  setsid docker-registry serve "$config" >"$home/registry.log" 2>&1 </dev/null &
  local pid=$! waited=0
  while [ "$waited" -lt 40 ]; do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/v2/', timeout=1)" 2>/dev/null; then
      export PACK_TEST_REGISTRY="127.0.0.1:$port"
      # shellcheck disable=SC2064
      _pack_registry_chain_exit_trap "kill $pid 2>/dev/null; rm -rf '$home'"
      echo "registry: $PACK_TEST_REGISTRY (pid $pid)"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
    waited=$((waited + 1))
  done
  echo "registry: docker-registry did not start (see $home/registry.log); push tests will be skipped"
  kill "$pid" 2>/dev/null
  return 0
}

_pack_registry_chain_exit_trap() {
  local new=$1 previous
  previous=$(trap -p EXIT)
  if [ -n "$previous" ]; then
    eval "set -- $previous"
    trap "$new; $3" EXIT
  else
    trap "$new" EXIT
  fi
}

if [ -z "${PACK_TEST_REGISTRY:-}" ]; then
  pack_registry_service || true
fi
