#!/usr/bin/env bash
# Makes sure what the test suite needs is here before `npm test` runs it, on a fresh Debian
# machine too: Chromium (browser tests) and nginx (reverse-proxy tests) from Debian packages,
# PostgreSQL (storage suites) and Redis running. It installs or starts what is missing when it
# can (root, apt-get, the Debian service commands), and otherwise stops at once with the one
# command to run. Quiet and quick when everything is already there. `npm test` and .ci/run call
# it; the tests themselves still fail, never skip, when a service is missing.
set -euo pipefail

say() { printf 'ensure-test-env: %s\n' "$*" >&2; }
die() {
  say "$1"
  say "run: $2"
  exit 1
}
is_root() { [ "$(id -u)" = 0 ]; }

# --- Chromium and nginx ----------------------------------------------------------------------
have_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ]; then [ -x "$CHROMIUM_PATH" ]; else command -v chromium >/dev/null 2>&1; fi
}
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

missing=()
have_chromium || missing+=(chromium)
have_nginx || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    have_chromium || die "chromium is still missing (CHROMIUM_PATH=${CHROMIUM_PATH:-})" "unset CHROMIUM_PATH"
  elif command -v apt-get >/dev/null 2>&1; then
    die "missing: ${missing[*]}" "sudo apt-get install -y ${missing[*]}"
  else
    die "missing: ${missing[*]} (Chromium may also be named with CHROMIUM_PATH)" \
      "install ${missing[*]} with your package manager"
  fi
fi

# --- services: start what is down, then wait until it answers --------------------------------
wait_for() { # command...: true once it succeeds, false after 60 s
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
pg_db=${PGDATABASE:-test}
pg_up() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$pg_host" -p "$pg_port"
  else
    (exec 3<>"/dev/tcp/$pg_host/$pg_port") 2>/dev/null
  fi
}
is_local() { case "$1" in 127.0.0.1 | localhost | ::1) return 0 ;; *) return 1 ;; esac }

if ! pg_up; then
  if ! is_local "$pg_host"; then
    die "PostgreSQL at $pg_host:$pg_port does not answer" "start PostgreSQL there, or unset PGHOST"
  fi
  cluster=$(ls /etc/postgresql 2>/dev/null | head -n 1 || true)
  start_pg="pg_ctlcluster --skip-systemctl-redirect ${cluster:-<version>} main start"
  if is_root && [ -n "$cluster" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
    say "starting PostgreSQL $cluster"
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    wait_for pg_up || die "PostgreSQL did not come up within 60 s" "$start_pg"
  else
    die "PostgreSQL does not answer on $pg_host:$pg_port" "sudo $start_pg"
  fi
fi
# The record store tests use the database `test` (each run in its own throwaway schema).
if command -v psql >/dev/null 2>&1 &&
  ! psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$pg_db" -tAc 'select 1' >/dev/null 2>&1; then
  say "creating the PostgreSQL database $pg_db"
  createdb -h "$pg_host" -p "$pg_port" -U "$pg_user" "$pg_db" ||
    die "cannot create the database $pg_db" "createdb -h $pg_host -p $pg_port -U $pg_user $pg_db"
fi

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
  else
    (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null
  fi
}
if ! redis_up; then
  if is_root; then redis_dir=/var/lib/redis log_dir=/var/log/redis; else
    redis_dir=${TMPDIR:-/tmp}/switchboard-redis log_dir=$redis_dir
  fi
  start_redis="redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir $redis_dir --logfile $log_dir/redis.log"
  if command -v redis-server >/dev/null 2>&1; then
    say "starting Redis"
    mkdir -p "$redis_dir" "$log_dir"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir "$redis_dir" --logfile "$log_dir/redis.log" || true
    wait_for redis_up || die "Redis did not come up within 60 s" "$start_redis"
  else
    die "Redis does not answer on 127.0.0.1:6379 and redis-server is not installed" \
      "$(is_root || printf 'sudo ')apt-get install -y redis-server"
  fi
fi
