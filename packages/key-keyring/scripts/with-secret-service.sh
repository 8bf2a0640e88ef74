#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a throw-away, unlocked gnome-keyring, so tests and
# benchmarks never touch (or depend on) the user's own keyring. Usage: with-secret-service.sh <command…>
# Wait on NameHasOwner: any Secret Service call made while the daemon is still starting auto-activates a
# second, password-less daemon.
set -euo pipefail

INNER=__cosignkit_secret_service_inner__

if [[ "${1:-}" != "$INNER" ]]; then
  if [[ $# -eq 0 ]]; then
    echo "usage: $0 <command…>" >&2
    exit 64
  fi
  for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || { echo "with-secret-service: $tool not found (apt-get install dbus gnome-keyring)" >&2; exit 69; }
  done
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/cosignkit-keyring.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir -m 700 "$tmp/data" "$tmp/runtime" "$tmp/home"
  export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime"
  unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS GNOME_KEYRING_CONTROL
  set +e
  # dbus-daemon, run as root in a container, says it cannot raise its fd limit to 65536 (the hard limit is
  # lower and CAP_SYS_RESOURCE is gone): harmless for a test bus, so quiet-dbus-daemon drops that one line.
  dbus-run-session --dbus-daemon="$(dirname "${BASH_SOURCE[0]}")/quiet-dbus-daemon" -- \
    bash "${BASH_SOURCE[0]}" "$INNER" "$@"
  rc=$?
  set -e
  exit "$rc"
fi
shift

bus() {
  dbus-send --session --print-reply --dest="$1" "${@:2}"
}

# The password only ever travels through a pipe (printf is a shell builtin: never in any argv).
password=$(head -c 24 /dev/urandom | base64)
printf %s "$password" | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null
unset password

owned=no
for _ in $(seq 1 200); do
  if bus org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    owned=yes
    break
  fi
  sleep 0.05
done
if [[ $owned != yes ]]; then
  echo "with-secret-service: gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s" >&2
  exit 70
fi

daemon_pid=$(bus org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
  string:org.freedesktop.secrets | awk '/uint32/ { print $2 }')
stop_daemon() { [[ -n "${daemon_pid:-}" ]] && kill "$daemon_pid" 2>/dev/null || true; }
trap stop_daemon EXIT

alias_path=$(bus org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias \
  string:default | awk '/object path/ { gsub(/"/, "", $3); print $3 }')
if [[ $alias_path != /org/freedesktop/secrets/collection/login ]]; then
  echo "with-secret-service: the default collection is '${alias_path}', expected the unlocked login collection" >&2
  exit 70
fi

export COSIGNKIT_SECRET_SERVICE_PID="$daemon_pid"
set +e
"$@"
rc=$?
set -e
exit "$rc"
