#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine for the CI test of
# profiles/slurm (tests/workflow/test_slurm.py): Debian's slurm-wlm and munge from apt,
# a slurm.conf generated for this host from slurm.conf.in, then munged,
# slurmctld and slurmd, started as root in a private folder
# ($SPECTRAL_SLURM_DIR, default /tmp/spectral-attribution-slurm) with their
# own ports (SPECTRAL_SLURM_PORTS, default "6917 6918") and munge socket.
#
# Idempotent: daemons of an earlier run are stopped and their state removed
# first. Clients (sbatch, squeue, sinfo) need `export SLURM_CONF=...`, written
# to $SPECTRAL_SLURM_DIR/env.sh. Stop everything with ci/slurm/teardown.sh.
# Fails (exit 1) with the reason when a step fails, e.g. apt unreachable.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
read -r CTLD_PORT SLURMD_PORT <<<"${SPECTRAL_SLURM_PORTS:-6917 6918}"

[ "$(id -u)" = 0 ] || die "needs root (apt-get, and slurmd runs jobs as root here); run as root, e.g. in CI"

# 1. Packages: install only what is missing, so that a machine that has them
#    needs no network.
need=0
for exe in munged slurmctld slurmd sbatch squeue sinfo scancel; do
    command -v "$exe" >/dev/null || need=1
done
if [ "$need" = 1 ]; then
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt_log="${TMPDIR:-/tmp}/spectral-slurm-apt.log"
    apt_install() {
        apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            slurm-wlm munge >>"$apt_log" 2>&1
    }
    : >"$apt_log"
    # Debian starts a package's services on install where an init system
    # runs; the cluster's daemons are started below, by this script only.
    policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        policy=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    if ! apt_install; then
        # a clean machine may have no package lists yet
        apt-get update -q >>"$apt_log" 2>&1 && apt_install || {
            tail -n 20 "$apt_log" >&2
            die "apt-get could not install slurm-wlm and munge (see the lines above, full log $apt_log); the SLURM test cannot run without them"
        }
    fi
    [ -n "$policy" ] && rm -f "$policy"
    trap - EXIT
fi

# 2. A clean private folder (stop what an earlier run left running).
"$HERE/teardown.sh"
rm -rf "$SLURM_DIR"
mkdir -p "$SLURM_DIR"/{munge,run,log,state/slurmctld,state/slurmd}
chmod 0700 "$SLURM_DIR/munge"

# 3. munged with a fresh key on a private socket.
dd if=/dev/urandom of="$SLURM_DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$SLURM_DIR/munge/munge.key"
munged --force --socket="$MUNGE_SOCKET" --key-file="$SLURM_DIR/munge/munge.key" \
    --pid-file="$SLURM_DIR/run/munged.pid" --log-file="$SLURM_DIR/log/munged.log" \
    --seed-file="$SLURM_DIR/munge/munged.seed" \
    || die "munged did not start: $(tail -n 5 "$SLURM_DIR/log/munged.log" 2>/dev/null)"
munge -n -S "$MUNGE_SOCKET" | unmunge -S "$MUNGE_SOCKET" >/dev/null \
    || die "munge credentials do not round-trip on $MUNGE_SOCKET"

# 4. slurm.conf for this host: the node line is what slurmd detects (CPUs,
#    sockets, cores, memory); addresses are loopback so that no DNS is needed.
HOST=$(hostname -s)
NODE="$(slurmd -C | head -n 1) NodeAddr=127.0.0.1"
case "$NODE" in NodeName=*) ;; *) die "slurmd -C gave no node line: $NODE";; esac
sed -e "s|@DIR@|$SLURM_DIR|g" -e "s|@HOST@|$HOST|g" -e "s|@NODE@|$NODE|" \
    -e "s|@CTLD_PORT@|$CTLD_PORT|" -e "s|@SLURMD_PORT@|$SLURMD_PORT|" \
    "$HERE/slurm.conf.in" >"$SLURM_CONF"
sed -i "s|^SlurmctldHost=.*|SlurmctldHost=$HOST(127.0.0.1)|" "$SLURM_CONF"
# Two stand-in GPUs: slurmd wants a character device per GPU and only
# records its number (task/none constrains no devices), so any two will do.
printf 'AutoDetect=off\nNodeName=%s Name=gpu File=/dev/null\nNodeName=%s Name=gpu File=/dev/zero\n' \
    "$HOST" "$HOST" >"$SLURM_DIR/gres.conf"
echo "export SLURM_CONF=$SLURM_CONF" >"$SLURM_DIR/env.sh"
# Commands inside a job do not see SLURM_CONF: snakemake's jobstep executor
# drops every SLURM_* variable before its nested `srun`. Clients that find no
# /etc/slurm/slurm.conf read /run/slurm/conf/slurm.conf (the place slurmd
# keeps a "configless" copy), so the configuration is linked there. A machine
# with a SLURM configuration of its own is left alone: the test cannot run there.
[ -e /etc/slurm/slurm.conf ] && die "/etc/slurm/slurm.conf exists: this machine has its own SLURM set-up, which jobs would use instead of the CI cluster's; run the CI cluster on a machine without one"
if [ -e "$RUN_LINK" ] && [ "$(readlink "$RUN_LINK")" != "$SLURM_CONF" ]; then
    die "$RUN_LINK exists and is not the CI cluster's: a configless slurmd runs here"
fi
mkdir -p "$(dirname "$RUN_LINK")"
ln -sfn "$SLURM_CONF" "$RUN_LINK"

# 5. slurmctld and slurmd (both fork into the background, pid files in run/).
slurmctld -f "$SLURM_CONF" || die "slurmctld did not start: $(tail -n 20 "$SLURM_DIR/log/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" || die "slurmd did not start: $(tail -n 20 "$SLURM_DIR/log/slurmd.log" 2>/dev/null)"

# 6. Ready when the node is idle (a daemon that exits, e.g. on a fatal
#    configuration error, fails the set-up at once, with its log).
state=
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
    for daemon in slurmctld slurmd; do
        if ! kill -0 "$(cat "$SLURM_DIR/run/$daemon.pid" 2>/dev/null || echo 0)" 2>/dev/null; then
            tail -n 20 "$SLURM_DIR/log/$daemon.log" >&2 || true
            die "$daemon exited (its log above)"
        fi
    done
    state=$(timeout 10 sinfo -h -N -n "$HOST" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
if [ "$state" != idle ]; then
    tail -n 20 "$SLURM_DIR/log/slurmctld.log" "$SLURM_DIR/log/slurmd.log" >&2 || true
    die "node $HOST is '${state:-unknown}' after 60 s, not idle (logs above)"
fi
log "cluster up: node $HOST idle ($(sinfo -h -N -o '%c CPUs, %m MB')); export SLURM_CONF=$SLURM_CONF"
