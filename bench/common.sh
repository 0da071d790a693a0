# Shared by bench/run.sh and bench/stories.sh (sourced, after each sets BENCH_KIND): the load
# settings, the production-like environment gunicorn runs in, and starting/stopping the server.
# Needs ROOT and BIN set by the caller.

REQUESTS=${BENCH_REQUESTS:-1000}
SOLO_REQUESTS=${BENCH_SOLO_REQUESTS:-300}
CONCURRENCY=${BENCH_CONCURRENCY:-8}
DURATION=${BENCH_DURATION:-60}
WARMUP=${BENCH_WARMUP:-30}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-8765}
OUT=${BENCH_OUT:-bench/RESULTS.md}
WORKERS=2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/localsocial-${BENCH_KIND:-bench}.XXXXXX")
SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'stop_server' EXIT

# Production settings, as an operator would set them, plus the bench-only baseline view.
unset LOCALSOCIAL_TESTING TASKS_BACKEND TEST_DATABASE_NAME DJANGO_ALLOW_ASYNC_UNSAFE
export DJANGO_SETTINGS_MODULE=localsocial.config.settings
export DEBUG=0
export SECRET_KEY="bench-only-$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export ALLOWED_HOSTS=127.0.0.1
export SECURE_SSL_REDIRECT=0
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/9}
export CACHE_KEY_PREFIX="bench-$$"
export LOCALSOCIAL_VAR="$WORK/var"
export STATIC_ROOT="$WORK/static"
export LOCALSOCIAL_BENCH=1
export LOCALSOCIAL_HOME="$ROOT"

log() { printf '\n== %s\n' "$*" >&2; }

wait_for_server() {
  "$BIN/python" - "$PORT" <<'PY'
import http.client, sys, time
port = int(sys.argv[1])
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            sys.exit(0)
        print(f"healthz {response.status}: {body[:300]!r}", file=sys.stderr)
    except OSError:
        pass
    time.sleep(0.5)
sys.exit("gunicorn did not become healthy within 60 s")
PY
}
