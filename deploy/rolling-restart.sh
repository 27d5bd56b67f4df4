#!/bin/sh
# Restart the realtime server's daphne processes one after the other (README, "Deploying"):
#     deploy/rolling-restart.sh 8001 8002
# Each one is stopped (SIGTERM: its clients are closed with 4012 and reconnect, through nginx, to the
# others), started again, and waited for until its /readyz answers 200, before the next.
set -eu
for port in "$@"; do
  echo "restarting realtime@$port"
  systemctl restart "realtime@$port"
  tries=0
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ]; then
      echo "realtime@$port is not ready after 60 s: stopping here (journalctl -u realtime@$port)" >&2
      exit 1
    fi
    sleep 0.5
  done
done
echo "every process restarted and ready"
