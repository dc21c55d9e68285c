# PostgreSQL for the registry tests: a private cluster (initdb + pg_ctl) on 127.0.0.1 and a free port.
# Sourced by .ci/run; exports PACK_TEST_POSTGRES_URI and stops the cluster when the CI shell exits.
# Without PostgreSQL the registry's PostgreSQL tests skip with a reason; SQLite tests always run.

_pack_pg_have_server() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

_pack_pg_chain_exit_trap() {
  local new=$1 previous
  previous=$(trap -p EXIT)
  if [ -n "$previous" ]; then
    eval "set -- $previous"
    trap "$new; $3" EXIT
  else
    trap "$new" EXIT
  fi
}

if [ -z "${PACK_TEST_POSTGRES_URI:-}" ]; then
  if ! _pack_pg_have_server && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql (apt-get)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || true
  fi
  if _pack_pg_have_server && _pack_pg_out=$(python3 devtools/postgres.py start); then
    PACK_TEST_POSTGRES_URI=$(printf '%s\n' "$_pack_pg_out" | head -n 1)
    _pack_pg_dir=$(printf '%s\n' "$_pack_pg_out" | tail -n 1)
    export PACK_TEST_POSTGRES_URI
    _pack_pg_chain_exit_trap "python3 devtools/postgres.py stop '$_pack_pg_dir'"
    echo "PostgreSQL at $PACK_TEST_POSTGRES_URI"
  else
    echo "warning: no PostgreSQL server could start; PostgreSQL tests will be skipped" >&2
  fi
fi
