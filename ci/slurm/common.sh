# Shared by setup.sh and teardown.sh (sourced, not run).
# The cluster's private folder; override with SPECTRAL_SLURM_DIR.
SLURM_DIR=${SPECTRAL_SLURM_DIR:-/tmp/spectral-attribution-slurm}
export SLURM_CONF="$SLURM_DIR/slurm.conf"
MUNGE_SOCKET="$SLURM_DIR/munge/munge.socket"
# Where clients look when neither SLURM_CONF nor /etc/slurm/slurm.conf exists.
RUN_LINK=/run/slurm/conf/slurm.conf

log() { echo "[ci/slurm] $*" >&2; }
die() { echo "[ci/slurm] ERROR: $*" >&2; exit 1; }

# Stop the daemon whose pid file is $1 (a process we started), waiting up to 10 s.
stop_pidfile() {
    local pidfile=$1 name=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        log "stopping $name (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && { log "$name did not stop; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
    fi
    rm -f "$pidfile"
}
