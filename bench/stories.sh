#!/usr/bin/env bash
# Local Social benchmark of the stories pages: `bash bench/stories.sh`.
#
# For each number of stories: a PostgreSQL database, migrations, `localsocial generate --scale S
# --stories N` (the directory at scale S, 1 by default: 4,000 organisations, 6,160 services),
# then gunicorn (2 workers, DEBUG off, production settings) on 127.0.0.1 and a bounded load
# test of the stories pages beside the bare Django view, as bench/run.sh does for the
# directory: the story list, the biggest organisations' lists, story pages with responses,
# search for common and for rare words, and the biggest organisations' dashboards (signed in
# as a generated moderator).  Writes the "Stories" section of bench/RESULTS.md and leaves the
# rest of the file as it is.
#
# Everything stays on this machine: the server listens on 127.0.0.1 and the load generator
# refuses any other address.  Every page gets a fixed number of requests and a time cap.
#
# Settings (environment), as for bench/run.sh, and:
#   BENCH_STORIES      numbers of stories, smallest first       (default "10000 100000 1000000")
#   BENCH_SCALE        the directory's scale                    (default 1)
#   BENCH_DB           database name prefix; one database per size, <prefix>_<N>
#                                                               (default localsocial_bench_stories)
#   BENCH_REUSE        1: keep a database that already holds N generated stories instead of
#                      generating it again (the figures then say so)        (default 0)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin

SIZES=${BENCH_STORIES:-"10000 100000 1000000"}
SCALE=${BENCH_SCALE:-1}
BENCH_KIND=bench-stories
# shellcheck source=bench/common.sh
source bench/common.sh
DB_PREFIX=${BENCH_DB:-localsocial_bench_stories}
REUSE=${BENCH_REUSE:-0}

# Prints "reuse" when BENCH_REUSE=1 and the database already holds N generated stories.
prepare_database() {
  "$BIN/python" - "$PG" "$1" "$REUSE" "$2" <<'PY'
import sys
import psycopg
from psycopg import sql

server, name, reuse, wanted = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
if reuse and exists:
    try:
        with psycopg.connect(f"{server}/{name}") as conn:
            have = conn.execute(
                "SELECT count(*) FROM stories_story WHERE author_email LIKE '%%@generated.invalid'"
            ).fetchone()[0]
        if have == wanted:
            print("reuse")
            sys.exit(0)
    except psycopg.Error:
        pass
with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY
}


log "Static files (WhiteNoise's manifest storage needs collectstatic)"
mkdir -p "$LOCALSOCIAL_VAR" "$STATIC_ROOT"
DATABASE_URL="$PG/postgres" "$BIN/localsocial" collectstatic --no-input -v 0

for N in $SIZES; do
  DB="${DB_PREFIX}_$N"
  export DATABASE_URL="$PG/$DB"
  if [[ "$(prepare_database "$DB" "$N")" == "reuse" ]]; then
    log "$N stories: reusing database $DB (BENCH_REUSE=1)"
    "$BIN/localsocial" migrate --no-input -v 0
    echo "Reused database $DB: generated earlier, not timed in this run." > "$WORK/generate-$N.txt"
  else
    log "$N stories: fresh database $DB"
    "$BIN/localsocial" migrate --no-input -v 0
    log "$N stories: generating (directory at scale $SCALE)"
    "$BIN/localsocial" generate --scale "$SCALE" --stories "$N" | tee "$WORK/generate-$N.txt"
  fi
  df -h "$ROOT" | tail -1 >&2
  "$BIN/python" bench/inspect_db.py story-counts > "$WORK/counts-$N.json"
  mapfile -t URL_ARGS < <("$BIN/python" bench/inspect_db.py story-urls)

  log "$N stories: gunicorn, $WORKERS workers on 127.0.0.1:$PORT"
  "$BIN/gunicorn" localsocial.config.wsgi:application \
    --workers "$WORKERS" --bind "127.0.0.1:$PORT" \
    --error-logfile "$WORK/gunicorn-$N.log" --log-level warning &
  SERVER_PID=$!
  wait_for_server
  # The session lives in the server's cache (Redis), so it is made after the server is up.
  COOKIE=$("$BIN/python" bench/inspect_db.py session)

  LOAD_ARGS=()
  for url in "${URL_ARGS[@]}"; do
    LOAD_ARGS+=(--url "$url")
    label=${url%%=*}
    if [[ "$label" == dashboard* ]]; then LOAD_ARGS+=(--cookie "$label=$COOKIE"); fi
  done
  log "$N stories: one at a time ($SOLO_REQUESTS requests a page, cap ${DURATION}s)"
  "$BIN/python" bench/load.py --base "http://127.0.0.1:$PORT" --requests "$SOLO_REQUESTS" \
    --concurrency 1 --duration "$DURATION" --warmup "$WARMUP" \
    --json "$WORK/solo-$N.json" "${LOAD_ARGS[@]}" | tee "$WORK/solo-$N.md" || true
  log "$N stories: under load ($REQUESTS requests a page, $CONCURRENCY threads, cap ${DURATION}s)"
  "$BIN/python" bench/load.py --base "http://127.0.0.1:$PORT" --requests "$REQUESTS" \
    --concurrency "$CONCURRENCY" --duration "$DURATION" --warmup "$WARMUP" \
    --json "$WORK/load-$N.json" "${LOAD_ARGS[@]}" | tee "$WORK/load-$N.md" || true
  stop_server
done

log "Writing the Stories section of $OUT"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
"$BIN/python" - "$WORK/meta.json" "$SIZES" "$REQUESTS" "$CONCURRENCY" "$DURATION" "$WARMUP" \
  "$WORKERS" "$SOLO_REQUESTS" "$SCALE" "$COMMIT$DIRTY" <<'PY'
import json, os, platform, subprocess, sys
from datetime import datetime, timezone

path, sizes, requests, concurrency, duration, warmup, workers, solo, scale, commit = sys.argv[1:]


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
with open("/proc/loadavg") as handle:
    load = handle.read().split()[:3]

import django, gunicorn, psycopg
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    pg = conn.execute("SHOW server_version").fetchone()[0]
env = (f"BENCH_STORIES='{sizes}' BENCH_SCALE={scale} BENCH_SOLO_REQUESTS={solo} "
       f"BENCH_REQUESTS={requests} BENCH_CONCURRENCY={concurrency} BENCH_DURATION={duration} "
       f"BENCH_WARMUP={warmup}")
meta = {
    "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": f"{env} bash bench/stories.sh",
    "commit": commit,
    "machine": f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GB RAM, {platform.system()} {platform.release()}",
    "load_average": " ".join(load),
    "software": (f"Python {platform.python_version()}, Django {django.get_version()}, "
                 f"PostgreSQL {pg} (default settings), gunicorn {gunicorn.__version__}, "
                 f"{first_line(['redis-server', '--version'])}"),
    "scales": sizes.split(),
    "requests": int(requests), "concurrency": int(concurrency), "duration": int(duration),
    "warmup": int(warmup), "workers": int(workers), "solo_requests": int(solo),
}
json.dump(meta, open(path, "w"), indent=2)
PY
"$BIN/python" bench/report.py --stories "$WORK" "$OUT"
log "Done: $OUT (raw figures in $WORK)"
