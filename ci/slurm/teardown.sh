#!/usr/bin/env bash
# Stop the one-node CI cluster started by ci/slurm/setup.sh: cancel its jobs,
# then stop slurmd, slurmctld and munged (by their pid files, so only the
# daemons this script family started). Safe to run when nothing is running.
# The folder stays, with the daemons' logs and the job completion log, until
# the next set-up.
set -uo pipefail
. "$(dirname "$0")/common.sh"

if [ -s "$SLURM_DIR/run/slurmctld.pid" ] && command -v scancel >/dev/null \
        && kill -0 "$(cat "$SLURM_DIR/run/slurmctld.pid")" 2>/dev/null; then
    # Cancel the jobs still queued or running, and wait for their processes to end.
    timeout 10 scancel --quiet --full --partition=ci 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while [ "$SECONDS" -lt "$deadline" ]; do
        [ -z "$(timeout 10 squeue -h -t PD,R,CG -o %i 2>/dev/null)" ] && break
        sleep 0.2
    done
fi
stop_pidfile "$SLURM_DIR/run/slurmd.pid" slurmd
stop_pidfile "$SLURM_DIR/run/slurmctld.pid" slurmctld
stop_pidfile "$SLURM_DIR/run/munged.pid" munged
# the link setup.sh made, only if it is ours
if [ "$(readlink "$RUN_LINK" 2>/dev/null)" = "$SLURM_CONF" ]; then
    rm -f "$RUN_LINK"
    rmdir "$(dirname "$RUN_LINK")" "$(dirname "$(dirname "$RUN_LINK")")" 2>/dev/null  # if empty
fi
exit 0
