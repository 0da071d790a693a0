#!/usr/bin/env bash
# Local Social benchmark (`make bench`).
#
# For each scale: a fresh PostgreSQL database, migrations, `localsocial generate --scale N`,
# then gunicorn (2 workers, DEBUG off, production settings) on 127.0.0.1 and a bounded load
# test of the public pages beside a bare Django view.  Writes bench/RESULTS.md.
#
# Everything stays on this machine: the server listens on 127.0.0.1 and the load generator
# refuses any other address.  Every page gets a fixed number of requests and a time cap.
#
# Settings (environment):
#   BENCH_SCALES       scales to measure, smallest first      (default "1 30")
#   BENCH_REQUESTS     measured requests per page under load  (default 1000)
#   BENCH_CONCURRENCY  client threads under load              (default 8)
#   BENCH_SOLO_REQUESTS  requests per page one at a time      (default 300)
#   BENCH_DURATION     time cap per page, seconds             (default 60)
#   BENCH_WARMUP       unmeasured requests per page           (default 30)
#   BENCH_PG           PostgreSQL server URL, no database     (default postgres://postgres@127.0.0.1:5432)
#   BENCH_DB           database to (re)create                 (default localsocial_bench)
#   BENCH_REDIS_URL    Redis for cache and sessions           (default redis://127.0.0.1:6379/9)
#   BENCH_PORT         port for gunicorn on 127.0.0.1         (default 8765)
#   BENCH_OUT          where to write the results             (default bench/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin

SCALES=${BENCH_SCALES:-"1 30"}
BENCH_KIND=bench
# shellcheck source=bench/common.sh
source bench/common.sh
DB=${BENCH_DB:-localsocial_bench}
export DATABASE_URL="$PG/$DB"

recreate_database() {
  "$BIN/python" - "$PG" "$DB" <<'PY'
import sys
import psycopg
from psycopg import sql

server, name = sys.argv[1], sys.argv[2]
with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
}


log "Static files (WhiteNoise's manifest storage needs collectstatic)"
mkdir -p "$LOCALSOCIAL_VAR" "$STATIC_ROOT"
"$BIN/localsocial" collectstatic --no-input -v 0

for SCALE in $SCALES; do
  log "Scale $SCALE: fresh database $DB"
  recreate_database
  "$BIN/localsocial" migrate --no-input -v 0
  log "Scale $SCALE: generating"
  "$BIN/localsocial" generate --scale "$SCALE" | tee "$WORK/generate-$SCALE.txt"
  "$BIN/python" bench/inspect_db.py counts > "$WORK/counts-$SCALE.json"
  mapfile -t URL_ARGS < <("$BIN/python" bench/inspect_db.py urls)

  log "Scale $SCALE: gunicorn, $WORKERS workers on 127.0.0.1:$PORT"
  "$BIN/gunicorn" localsocial.config.wsgi:application \
    --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
    --error-logfile "$WORK/gunicorn-$SCALE.log" --log-level warning &
  SERVER_PID=$!
  wait_for_server

  LOAD_ARGS=()
  for url in "${URL_ARGS[@]}"; do LOAD_ARGS+=(--url "$url"); done
  # One request at a time: each page's own time, without queueing behind the others.
  log "Scale $SCALE: one at a time ($SOLO_REQUESTS requests a page, cap ${DURATION}s)"
  "$BIN/python" bench/load.py --base "http://127.0.0.1:$PORT" --requests "$SOLO_REQUESTS" \
    --concurrency 1 --duration "$DURATION" --warmup "$WARMUP" \
    --json "$WORK/solo-$SCALE.json" "${LOAD_ARGS[@]}" | tee "$WORK/solo-$SCALE.md" || true
  # Under load: more clients than workers, so requests queue as they would at a busy time.
  log "Scale $SCALE: under load ($REQUESTS requests a page, $CONCURRENCY threads, cap ${DURATION}s)"
  "$BIN/python" bench/load.py --base "http://127.0.0.1:$PORT" --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP" \
    --json "$WORK/load-$SCALE.json" "${LOAD_ARGS[@]}" | tee "$WORK/load-$SCALE.md" || true
  stop_server
done

log "Writing $OUT"
"$BIN/python" - "$WORK/meta.json" "$SCALES" "$REQUESTS" "$CONCURRENCY" "$DURATION" "$WARMUP" "$WORKERS" "$SOLO_REQUESTS" <<'PY'
import json, os, platform, subprocess, sys
from datetime import datetime, timezone

path, scales, requests, concurrency, duration, warmup, workers, solo = sys.argv[1:]


def first_line(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


cpu = "unknown CPU"
try:
    with open("/proc/cpuinfo") as handle:
        cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
except (OSError, StopIteration):
    pass
with open("/proc/meminfo") as handle:
    mem_kb = int(next(line.split()[1] for line in handle if line.startswith("MemTotal")))

import django, gunicorn, psycopg
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    pg = conn.execute("SHOW server_version").fetchone()[0]
redis_version = first_line(["redis-server", "--version"])
env = (f"BENCH_SCALES='{scales}' BENCH_SOLO_REQUESTS={solo} BENCH_REQUESTS={requests} "
       f"BENCH_CONCURRENCY={concurrency} BENCH_DURATION={duration} BENCH_WARMUP={warmup}")
meta = {
    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": f"{env} bash bench/run.sh",
    "machine": f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GB RAM, {platform.system()} {platform.release()}",
    "software": (f"Python {platform.python_version()}, Django {django.get_version()}, "
                 f"PostgreSQL {pg} (default settings), gunicorn {gunicorn.__version__}, {redis_version}"),
    "scales": scales.split(),
    "requests": int(requests), "concurrency": int(concurrency), "duration": int(duration),
    "warmup": int(warmup), "workers": int(workers), "solo_requests": int(solo),
    "notes": [],
}
json.dump(meta, open(path, "w"), indent=2)
PY
"$BIN/python" bench/report.py "$WORK" "$OUT"
log "Done: $OUT (raw figures in $WORK)"
