# Shared steps of scripts/run and scripts/test: a virtual environment with the pinned
# dependencies, and the local PostgreSQL and RabbitMQ started when they are installed but stopped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RELAIS_VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON:-python3}"

say() { printf '%s\n' "relais: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

has_systemd() {
  command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]
}

ensure_venv() {
  local stamp="$VENV/.relais-installed"
  local want
  want="$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing the pinned dependencies (requirements.lock)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --require-hashes -r "$ROOT/requirements.lock"
    "$VENV/bin/python" -m pip install --quiet --no-deps -e "$ROOT"
    echo "$want" > "$stamp"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {  # host port seconds what
  local i
  for ((i = 0; i < $3 * 2; i++)); do
    port_open "$1" "$2" && return 0
    sleep 0.5
  done
  say "$4 did not come up on $1:$2 within $3 s"
  return 1
}

ensure_rabbitmq() {
  # Only the local default broker is ours to start; a remote AMQP_URL is the operator's.
  case "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}" in
    *@127.0.0.1:5672*|*@localhost:5672*|*@127.0.0.1/*|*@localhost/*) ;;
    *) return 0 ;;
  esac
  port_open 127.0.0.1 5672 && return 0
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    say "RabbitMQ is not installed: install it (Debian: apt-get install rabbitmq-server) or set AMQP_URL"
    return 1
  fi
  say "starting RabbitMQ"
  if has_systemd; then
    as_root systemctl start rabbitmq-server
  else
    as_root rabbitmq-server -detached
  fi
  wait_port 127.0.0.1 5672 120 RabbitMQ
  as_root rabbitmqctl await_startup >/dev/null 2>&1 || true
}

ensure_postgresql() {
  port_open 127.0.0.1 5432 && return 0
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! has_systemd; then
    say "PostgreSQL is not running on 127.0.0.1:5432 and cannot be started from here"
    return 1
  fi
  say "starting PostgreSQL"
  if has_systemd; then
    as_root systemctl start postgresql
  else
    local version
    for version in $(ls /etc/postgresql); do
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  fi
  wait_port 127.0.0.1 5432 60 PostgreSQL
}

ensure_chromium() {
  # The browser tests drive Debian's Chromium with Playwright (never Playwright's own download).
  [ -x /usr/bin/chromium ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "Chromium is missing: install it as /usr/bin/chromium for the browser tests"
    return 1
  fi
  say "installing Debian's chromium package (for the browser tests)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}
