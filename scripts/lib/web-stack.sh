# A throwaway galaxy web stack for checks and benchmarks: a private PostgreSQL cluster, a migrated
# database with the shipped default model, `galaxy serve --http` (daemon + web app in one process)
# and tokens. Source after common.sh; call web_stack_start WORKDIR, then web_stack_stop.
# Sets WEB_URL, WEB_READ_TOKEN, WEB_WRITE_TOKEN, DATABASE_URL.

web_stack_start() {
    local work="$1"
    local galaxy="${GALAXY_BIN:-$GALAXY_ROOT/.build/release/galaxy}"
    [ -x "$galaxy" ] || die "no galaxy binary at $galaxy: build it or set GALAXY_BIN"
    WEB_WORK="$work"
    mkdir -p "$work"
    chmod 755 "$work"
    pg_cluster_start "$work/pg"
    psql -X -q -d postgres -c "create database galaxy_web" >/dev/null
    export DATABASE_URL="postgresql://galaxy@/galaxy_web?host=$PGHOST&port=$PGPORT"
    "$galaxy" migrate >/dev/null
    "$galaxy" model add default "$GALAXY_ROOT/Sources/GalaxyEngine/Resources/galaxy-default.onnx" --activate >/dev/null
    "$galaxy" synth --out "$work/images" --count "${WEB_STACK_IMAGES:-8}" --seed 7 >/dev/null 2>&1
    WEB_WRITE_TOKEN=$("$galaxy" token create checks-writer --scope write 2>/dev/null)
    WEB_READ_TOKEN=$("$galaxy" token create checks-reader --scope read 2>/dev/null)
    local port
    port=$(free_port)
    WEB_URL="http://127.0.0.1:$port"
    "$galaxy" serve --http "127.0.0.1:$port" --rate "${WEB_STACK_RATE:-1000}" --burst "${WEB_STACK_BURST:-1000}" \
        ${WEB_STACK_SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
    WEB_PID=$!
    local i
    for i in $(seq 1 300); do
        if curl -fsS "$WEB_URL/readyz" >/dev/null 2>&1; then break; fi
        kill -0 "$WEB_PID" 2>/dev/null || { cat "$work/serve.log" >&2; die "galaxy serve --http exited"; }
        sleep 0.1
    done
    curl -fsS "$WEB_URL/readyz" >/dev/null || { cat "$work/serve.log" >&2; die "the web app did not become ready"; }
    export WEB_URL WEB_READ_TOKEN WEB_WRITE_TOKEN WEB_PID
}

web_stack_stop() {
    if [ -n "${WEB_PID:-}" ]; then
        kill -TERM "$WEB_PID" 2>/dev/null || true
        wait "$WEB_PID" 2>/dev/null || true
        WEB_PID=""
    fi
    [ -n "${WEB_WORK:-}" ] && pg_cluster_stop "$WEB_WORK/pg"
}
