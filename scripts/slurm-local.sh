#!/usr/bin/env bash
# A real single-node Slurm on this machine, and a sweep through it: installs Debian's slurm-wlm
# and munge if missing, starts munged, slurmctld and slurmd without systemd (the recipe of
# ../shared/SLURM.md), submits a small depth-linear sweep as a job array, waits, collects, checks
# that every cell is complete and that summary.csv equals the one of the same spec run locally
# (apart from timings), resubmits after deleting a cell (only that cell reruns), and stops the
# daemons it started. Needs root (apt, daemons). Usage: scripts/slurm-local.sh [FDL_BINARY]
# Exit codes: 0 pass, 1 a check failed, 2 cannot run here (not root, a Slurm of someone else's),
# 3 Slurm did not come up or a job did not finish, 4 the packages could not be installed.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
fdl="${1:-$root/target/release/fdl}"
work="$(mktemp -d /tmp/fdl-slurm.XXXXXX)"
started=()
conf=/etc/slurm/slurm.conf
wrote_conf=0

log() { printf '[slurm-local %(%H:%M:%S)T] %s\n' -1 "$*"; }
stop_daemons() {
    # By PID, never by name, and only what this script started; then wait until gone.
    for pidfile in "${started[@]}"; do
        if [ -f "$pidfile" ]; then
            pid="$(cat "$pidfile")"
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
    done
    if [ "$wrote_conf" = 1 ]; then rm -f "$conf"; fi
    rm -rf "$work"
}
trap stop_daemons EXIT

if [ "$(id -u)" != 0 ]; then
    echo "slurm-local.sh installs packages and starts daemons: run it as root (or in a container)" >&2
    exit 2
fi
if [ ! -x "$fdl" ]; then
    log "building fdl"
    (cd "$root" && cargo build --release --quiet)
fi
# Absolute: the script works in a scratch folder below.
fdl="$(realpath "$fdl")"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 &&
        ! { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; }; then
        echo "could not install slurm-wlm and munge (no Debian mirror reachable?)" >&2
        exit 4
    fi
fi

host="$(hostname -s)"
if [ -f "$conf" ] && ! grep -q "written by fdl scripts/slurm-local.sh" "$conf"; then
    echo "$conf exists and was not written by this script; not touching a configured Slurm" >&2
    exit 2
fi
node="$(slurmd -C | head -1 | sed 's/ UpTime=.*//')"
mkdir -p /etc/slurm /run/munge /run/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > "$conf" <<CONF
# written by fdl scripts/slurm-local.sh (removed when it stops)
ClusterName=local
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
wrote_conf=1
chown munge:munge /run/munge
chown slurm:slurm /run/slurm /var/spool/slurmctld /var/log/slurm

log "starting munged, slurmctld, slurmd"
if ! { [ -f /run/munge/munged.pid ] && kill -0 "$(cat /run/munge/munged.pid)" 2>/dev/null; }; then
    su -s /bin/sh munge -c munged
    started+=(/run/munge/munged.pid)
fi
for daemon in slurmctld slurmd; do
    pidfile="/run/slurm/$daemon.pid"
    if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
        "$daemon"
        started=("$pidfile" "${started[@]}")
    fi
done
for _ in $(seq 100); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.2
done
sinfo -h -o %T | grep -q idle || { echo "the Slurm node did not come up; see /var/log/slurm" >&2; exit 3; }
log "node up: $(sinfo -h -o '%N %c CPUs %T')"

cd "$work"
cat > spec.toml <<SPEC
experiment = "depth-linear"
quick = true
seeds = "0..3"
[set]
"training.steps" = 2000
conservation_steps = 200
[grid]
"training.init_std" = [0.1, 0.2]
SPEC

wait_job() {
    local job="$1"
    for _ in $(seq 1500); do
        [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && return 0
        sleep 0.2
    done
    echo "job $job did not finish within 5 minutes" >&2
    scancel "$job" || true
    exit 3
}
submit() {
    # Printed to stderr by echo, not `tee /dev/stderr`: reopening /dev/stderr truncates a log file
    # that stderr is redirected to.
    local out
    out="$("$fdl" sweep slurm spec.toml --out slurm-sweep --cells-per-task 2 --cpus-per-task 1 --time 00:10:00)"
    echo "$out" >&2
    echo "$out" | sed -n 's/^submitted job \([0-9]*\).*/\1/p'
}

clock=$SECONDS
job="$(submit)"
[ -n "$job" ] || { echo "no job was submitted" >&2; exit 3; }
wait_job "$job"
log "job array $job done in $((SECONDS - clock)) s"
"$fdl" sweep collect slurm-sweep >/dev/null || true
"$fdl" sweep status slurm-sweep | tee status.txt
grep -q "0 could not finish, 0 not run" status.txt || { echo "cells missing or failed" >&2; exit 1; }

log "the same spec locally"
# One thread per cell, as the array tasks have (--cpus-per-task 1), so that every reduction
# adds in the same order.
"$fdl" sweep run spec.toml --out local-sweep --jobs "$(nproc)" >/dev/null || true

# summary.csv without the timing column.
strip() { python3 -c '
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, h in enumerate(rows[0]) if h != "wall_seconds"]
for r in rows: print(",".join(r[i] for i in keep))' "$1"; }
same() {
    if ! diff <(strip slurm-sweep/summary.csv) <(strip local-sweep/summary.csv) >diff.txt; then
        echo "Slurm and local summary.csv differ:" >&2; head -20 diff.txt >&2; exit 1
    fi
}
same
log "summary.csv: Slurm = local ($(($(wc -l < slurm-sweep/summary.csv) - 1)) cells, timings aside)"

log "resume: delete cell 0003 and resubmit"
keep="$(stat -c %Y slurm-sweep/cells/0000/manifest.json)"
rm -rf slurm-sweep/cells/0003
job="$(submit)"
[ "$(cat "$(ls -t slurm-sweep/slurm/*.cells | head -1)")" = 3 ] ||
    { echo "the resubmission should run cell 3 alone" >&2; exit 1; }
wait_job "$job"
"$fdl" sweep collect slurm-sweep >/dev/null || true
[ -d slurm-sweep/cells/0003 ] || { echo "cell 3 was not rerun" >&2; exit 1; }
[ "$(stat -c %Y slurm-sweep/cells/0000/manifest.json)" = "$keep" ] || { echo "cell 0 was rerun" >&2; exit 1; }
same
log "PASS: array sweep = local sweep, and a resubmission reran only the missing cell"
