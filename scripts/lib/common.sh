# Shared by the scripts in scripts/: toolchain lookup, dependency installation, a private
# PostgreSQL cluster. Source it; it defines functions and sets nothing else.

GALAXY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GALAXY_PG_BIN="${GALAXY_PG_BIN:-/usr/lib/postgresql/15/bin}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Puts the Swift toolchain on PATH when the shell does not have it yet.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || die "swift not found: install Swift 6 or put it on PATH"
}

# Installs the Debian packages the build and the database need, when any is missing.
ensure_apt_packages() {
    local wanted=(libturbojpeg0-dev libjpeg62-turbo-dev libpq-dev libopenblas-dev pkg-config gcc make
        postgresql-15 postgresql-contrib postgresql-server-dev-all "$@")
    local missing=()
    local p
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
}

# Installs Python packages used by reference checks and benchmarks (never by the product).
ensure_pip_packages() {
    local missing=()
    local spec module
    for spec in "$@"; do
        module="${spec%%[=<>]*}"
        module="${module%%\[*}"
        case "$module" in
            pillow) module=PIL ;;
            psycopg) module=psycopg ;;
        esac
        python3 -c "import ${module//-/_}" >/dev/null 2>&1 || missing+=("$spec")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Python packages: ${missing[*]}"
    python3 -m pip install --quiet --disable-pip-version-check "${missing[@]}"
}

# The user that runs PostgreSQL: the caller, unless that is root, which the server refuses.
pg_user() {
    if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi
}

as_pg_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints a free TCP port on the loopback interface.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_cluster_start DIR: initialises (once) and starts a private cluster whose data and socket live
# in DIR, on a free port. Sets PGHOST, PGPORT, PGUSER, PGDATABASE for the caller.
pg_cluster_start() {
    local dir="$1"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg_user "$GALAXY_PG_BIN/initdb" -D "$dir/data" -U galaxy -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
            || die "initdb failed, see $dir/initdb.log"
    fi
    local port
    if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(free_port); fi
    if ! as_pg_user "$GALAXY_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_pg_user "$GALAXY_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
            -o "-p $port -k $dir -c listen_addresses='' -c max_connections=200 -c fsync=${GALAXY_PG_FSYNC:-on}" >/dev/null \
            || { port=$(free_port); as_pg_user "$GALAXY_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
                -o "-p $port -k $dir -c listen_addresses='' -c max_connections=200 -c fsync=${GALAXY_PG_FSYNC:-on}" >/dev/null; } \
            || die "PostgreSQL did not start, see $dir/server.log"
    fi
    echo "$port" >"$dir/port"
    export PGHOST="$dir" PGPORT="$port" PGUSER=galaxy PGDATABASE=postgres
}

# pg_cluster_stop DIR: stops the cluster in DIR if it runs.
pg_cluster_stop() {
    local dir="$1"
    [ -f "$dir/data/PG_VERSION" ] || return 0
    as_pg_user "$GALAXY_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# The machine, printed before any figure: figures from different CPUs do not compare.
describe_cpu() {
    local model flags="" f
    model="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
    for f in avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8; do
        grep -qw "$f" /proc/cpuinfo 2>/dev/null && flags="$flags $f"
    done
    echo "CPU: ${model:-unknown} ($(nproc) cores visible); features:${flags:- none of avx2/avx512/amx}"
}

# Galaxy Zoo 1's classes as sets of our labels (docs/models.md): a spiral with visible arms is one
# of Sa..Sd or SBa..SBd, an edge-on disk is Se, and "don't know" and mergers are A. Writes a
# catalog (id,label,file) whose files are read where they are in the Galaxy Zoo 1 folder.
#   write_gz1_catalog GZ1_DIR OUT_CSV
write_gz1_catalog() {
    local gz1 out
    gz1="$(cd "$1" && pwd)" out="$2"
    [ -f "$gz1/catalog.csv" ] || die "no catalog.csv in $gz1: give the Galaxy Zoo 1 folder (see its README)"
    mkdir -p "$(dirname "$out")"
    awk -F, -v root="$gz1" '
        NR == 1 { print "id,label,file"; next }
        {
            if ($3 == "elliptical") label = "Elliptical"
            else if ($3 == "spiral_cw" || $3 == "spiral_acw") label = "Sa|Sb|Sc|Sd|SBa|SBb|SBc|SBd"
            else if ($3 == "edge_on") label = "Se"
            else if ($3 == "dont_know" || $3 == "merger") label = "A"
            else { printf "catalog line %d: unknown gz1_name %s\n", NR, $3 > "/dev/stderr"; exit 1 }
            printf "%s,\"%s\",%s/%s\n", $1, label, root, $4
        }' "$gz1/catalog.csv" >"$out"
}
