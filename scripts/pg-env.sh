# Sourced by `make test`: starts a throwaway PostgreSQL server on loopback and exports KIOSK_TEST_PG_URL.
# Without a server binary the PostgreSQL tests are skipped, unless KIOSK_REQUIRE_PG=1 (CI) makes that a failure.
_pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "${KIOSK_TEST_PG_URL:-}" ] && [ -n "$_pg_bin" ] && [ -x "$_pg_bin/initdb" ]; then
  _pg_dir=${KIOSK_PG_DIR:-/tmp/kiosk-pg-$(id -u)}
  _pg_port=${KIOSK_PG_PORT:-55433}
  _pg_run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  if [ ! -f "$_pg_dir/PG_VERSION" ]; then
    mkdir -p "$_pg_dir"
    [ "$(id -u)" = 0 ] && chown postgres "$_pg_dir"
    _pg_run "$_pg_bin/initdb" -D "$_pg_dir" -A trust -U kiosk >/dev/null
  fi
  # Ask the server itself: a pid file left by a killed session may name a reused pid.
  if ! "$_pg_bin/pg_isready" -q -h 127.0.0.1 -p "$_pg_port"; then
    rm -f "$_pg_dir/postmaster.pid" "$_pg_dir"/.s.PGSQL.*.lock
    _pg_run "$_pg_bin/pg_ctl" -D "$_pg_dir" -l "$_pg_dir/log" -w \
      -o "-p $_pg_port -k $_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  _pg_run "$_pg_bin/psql" -h 127.0.0.1 -p "$_pg_port" -U kiosk -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='kiosk_test'" | grep -q 1 || \
    _pg_run "$_pg_bin/createdb" -h 127.0.0.1 -p "$_pg_port" -U kiosk kiosk_test
  export KIOSK_TEST_PG_URL="postgresql://kiosk@127.0.0.1:$_pg_port/kiosk_test"
fi
