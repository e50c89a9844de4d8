#!/usr/bin/env bash
# Run the built-in sample through profiles/slurm on a real single-node Slurm cluster started here.
#   sudo make test-slurm        (or: bash scripts/ci_slurm.sh [VENV]; CI_SLURM_KEEP=1 keeps the logs)
# Needs root (slurmd runs jobs as their user; apt installs Slurm and MUNGE when missing).
# Checks: every non-local job ran as a Slurm job and succeeded, the summary came out; in shards the
# sample runs as at most one Slurm job per object with the same summary; and a job that fails (a
# broken mesh) fails the run. Everything started here is stopped by PID on exit.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=$(cd "$REPO" && realpath -m "${1:-.venv}")
SNAKEMAKE="$VENV/bin/snakemake"
CONF=/etc/slurm/slurm.conf   # the jobstep plugin clears SLURM_CONF, so it must be the default path
MARKER="# written by implicit3d scripts/ci_slurm.sh"
STARTED=$(date +%s)

say() { echo "ci-slurm: $*"; }
die() { echo "ci-slurm: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root to start slurmctld/slurmd (CI runs as root; locally: sudo make test-slurm)"
[ -x "$SNAKEMAKE" ] || die "$SNAKEMAKE not found (run make setup first)"
"$VENV/bin/python" -c "import snakemake_executor_plugin_slurm" 2>/dev/null \
  || die "snakemake-executor-plugin-slurm is not installed in $VENV (it is in the 'workflow' extra)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurmctld slurmd slurm-client munge with apt"
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting the daemons (with no config yet): this script starts its own.
  POLICY=""
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; POLICY=1; }
  installed=0
  apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null; } \
    || installed=$?
  [ -z "$POLICY" ] || rm -f /usr/sbin/policy-rc.d
  [ "$installed" = 0 ] || die "apt-get could not install slurmctld slurmd slurm-client munge"
fi

# One test cluster per machine at a time (fixed ports and config path); wait for another run.
# The lock lies in the temporary folder every run on this machine shares.
LOCK="$(dirname "$(mktemp -u)")/implicit3d-ci-slurm.lock"
exec 9>"$LOCK"
flock -w 900 9 || die "another ci_slurm.sh run holds $LOCK"
if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this script: refusing to touch a real Slurm installation"
fi

WORK=$(mktemp -d -t implicit3d-slurm.XXXXXX)
chmod 755 "$WORK"
MUNGED_PID="" CTLD_PID="" SLURMD_PID="" SM_PID=""

stop_pid() {  # stop_pid PID NAME: SIGTERM, wait up to 20 s, then SIGKILL
  local pid=$1 name=$2 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  say "$name (pid $pid) ignored SIGTERM; killing"
  kill -KILL "$pid" 2>/dev/null || true
}

teardown() {
  local rc=$?
  set +e
  if [ -n "$SM_PID" ] && kill -0 "$SM_PID" 2>/dev/null; then
    # SIGINT, not SIGTERM: on SIGINT snakemake cancels its Slurm jobs before exiting.
    kill -INT "$SM_PID"; for _ in $(seq 60); do kill -0 "$SM_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$SM_PID" 2>/dev/null
  fi
  if [ -n "$CTLD_PID" ] && kill -0 "$CTLD_PID" 2>/dev/null; then
    local jobs; jobs=$(squeue -h -o %i 2>/dev/null)
    [ -n "$jobs" ] && scancel $jobs
    for _ in $(seq 40); do [ -z "$(squeue -h -t R,CG 2>/dev/null)" ] && break; sleep 0.5; done
  fi
  stop_pid "$SLURMD_PID" slurmd
  stop_pid "$CTLD_PID" slurmctld
  stop_pid "$MUNGED_PID" munged
  grep -qF "$MARKER" "$CONF" 2>/dev/null && rm -f "$CONF"
  if [ "$rc" != 0 ]; then
    for log in "$WORK"/slurmctld.log "$WORK"/slurmd.log "$WORK"/munged.log; do
      [ -s "$log" ] && { echo "--- tail of $log"; tail -n 25 "$log"; }
    done
  fi
  if [ "$rc" != 0 ] || [ -n "${CI_SLURM_KEEP:-}" ]; then say "logs kept in $WORK"; else rm -rf "$WORK"; fi
  say "stopped everything this script started ($(( $(date +%s) - STARTED )) s in all)"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# MUNGE (Slurm's authentication): reuse a running daemon, else start one as the munge user
# (munged refuses to run as root).
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "using the running munged"
else
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 "$WORK/munge"
  [ -s /etc/munge/munge.key ] || setpriv --reuid=munge --regid=munge --init-groups mungekey --create
  setpriv --reuid=munge --regid=munge --init-groups munged --foreground \
    --log-file="$WORK/munge/munged.log" --pid-file="$WORK/munge/munged.pid" --seed-file="$WORK/munge/munged.seed" \
    >"$WORK/munged.log" 2>&1 &
  MUNGED_PID=$!
  for _ in $(seq 40); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done
  munge -n | unmunge >/dev/null || die "munged did not come up"
fi

# Slurm: one node (this host) in one partition, no accounting database, no cgroups.
HOST=$(hostname -s)
CPUS=$(nproc)
# The rules ask for up to 4 GB per job; a small runner still schedules them (the tiny jobs need
# far less), so the node claims at least 16 GB and config_overrides keeps slurmd from draining it.
MEM_MB=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
[ "$MEM_MB" -ge 16384 ] || MEM_MB=16384
mkdir -p /etc/slurm "$WORK/state" "$WORK/spool"
cat >"$CONF" <<EOF
$MARKER for a throwaway test cluster
ClusterName=implicit3d-ci
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c >"$WORK/slurmctld.out" 2>&1 &
CTLD_PID=$!
slurmd -D >"$WORK/slurmd.out" 2>&1 &
SLURMD_PID=$!
state=""
for _ in $(seq 120); do
  state=$(sinfo -h -N -n "$HOST" -o %t 2>/dev/null || true)
  [ "$state" = idle ] && break
  kill -0 "$CTLD_PID" 2>/dev/null || die "slurmctld exited: $(tail -n 5 "$WORK/slurmctld.out" "$WORK/slurmctld.log" 2>/dev/null)"
  kill -0 "$SLURMD_PID" 2>/dev/null || die "slurmd exited: $(tail -n 5 "$WORK/slurmd.out" "$WORK/slurmd.log" 2>/dev/null)"
  sleep 0.5
done
[ "$state" = idle ] || die "node $HOST is '$state', not idle: $(scontrol show node "$HOST" | grep -i reason)"
say "Slurm is up: node $HOST, $CPUS CPUs, ${MEM_MB} MB, partition debug"

# run_workflow DIR [CONFIGFILE...]: the sample workflow in DIR through the user profile plus the CI
# overrides, with tests/data/tiny.yaml and the given config files.
run_workflow() {
  local dir=$1
  shift
  for name in Snakefile workflow config environment.yml; do cp -r "$REPO/$name" "$dir/"; done
  # timeout resets SIGINT to its default for snakemake (a script's background jobs ignore SIGINT).
  (cd "$dir" && exec timeout -s INT -k 60 900 "$SNAKEMAKE" --profile "$REPO/profiles/slurm" --profile "$REPO/profiles/slurm-ci" \
    --configfile "$REPO/tests/data/tiny.yaml" "$@" --config "meshes=$dir/meshes" "models=[hashgrid]" >"$dir/snakemake.log" 2>&1) &
  SM_PID=$!
  local rc=0
  wait "$SM_PID" || rc=$?
  SM_PID=""
  return "$rc"
}

# submitted_ids LOG: the Slurm job ids snakemake reports in LOG.
submitted_ids() { grep -oE "submitted with SLURM jobid [0-9]+" "$1" | awk '{print $NF}'; }

# 1. The sample (2 meshes, one model, tiny settings) must run as Slurm jobs and produce the summary.
OK="$WORK/ok"
mkdir -p "$OK/meshes"
cp "$REPO/data/sample_meshes/joint.ply" "$REPO/data/sample_meshes/rotor.ply" "$OK/meshes/"
say "running the sample through profiles/slurm + profiles/slurm-ci"
t0=$(date +%s)
run_workflow "$OK" || { tail -n 40 "$OK/snakemake.log"; die "the sample workflow failed on Slurm"; }
say "sample workflow finished in $(( $(date +%s) - t0 )) s"

ids=$(submitted_ids "$OK/snakemake.log")
n_ids=$(echo "$ids" | grep -c . || true)
# One job per object (object_jobs: chain, the default: each object's stages in one job); every job
# is then checked by id below.
declare -A expect=([object]=2)
for rule in "${!expect[@]}"; do
  n=$(find "$OK/.snakemake/slurm_logs/rule_$rule" -name '*.log' 2>/dev/null | wc -l)
  [ "$n" = "${expect[$rule]}" ] || die "expected ${expect[$rule]} Slurm jobs of rule $rule, found $n"
done
total=$(find "$OK/.snakemake/slurm_logs" -name '*.log' | wc -l)
[ "$n_ids" = "$total" ] || die "snakemake reported $n_ids Slurm job ids but there are $total Slurm job logs"
for id in $ids; do
  grep -qE "_job_complete: JobId=$id WEXITSTATUS 0\b" "$WORK/slurmctld.log" \
    || die "slurmctld has no successful completion of job $id"
  find "$OK/.snakemake/slurm_logs" -name "$id.log" | grep -q . || die "no Slurm log for job $id"
done
"$VENV/bin/python" - "$OK/results" <<'EOF' || die "summary check failed"
import json, sys
from implicit3d.summary import read_summary
results = sys.argv[1]
table = read_summary(f"{results}/summary.csv")
rows = table[table.object != "mean"]
assert sorted(zip(rows.model, rows.object)) == [("hashgrid", "joint"), ("hashgrid", "rotor")], rows
assert rows.f1_volume.between(0, 1).all(), rows.f1_volume
assert json.load(open(f"{results}/metrics.json"))["hashgrid"]["objects"] == 2
print(open(f"{results}/summary.md").read())
EOF
say "OK: $total jobs ran as Slurm jobs ($(echo $ids | tr '\n' ' ')) and the summary is complete"

# 2. The same sample in one shard (config `shards`): every per-object step of both objects runs in
# one Slurm job, so the run submits at most one job per object (the shard, and the viewer of the
# collection), and the summary is the unsharded run's, timings aside.
SHARDED="$WORK/sharded"
mkdir -p "$SHARDED/meshes"
cp "$OK/meshes/"*.ply "$SHARDED/meshes/"
echo "shards: {size: 2, threads: 2, mem_mb: 4000, runtime: 30}" >"$SHARDED/shards.yaml"
say "running the sample in one shard"
t0=$(date +%s)
run_workflow "$SHARDED" "$SHARDED/shards.yaml" || {
  tail -n 40 "$SHARDED/snakemake.log"; tail -n 40 "$SHARDED"/results/logs/shard/*.log; die "the sharded sample failed on Slurm"
}
say "sharded sample finished in $(( $(date +%s) - t0 )) s"
ids=$(submitted_ids "$SHARDED/snakemake.log")
n_ids=$(echo "$ids" | grep -c . || true)
n_shard=$(find "$SHARDED/.snakemake/slurm_logs/rule_shard" -name '*.log' 2>/dev/null | wc -l)
[ "$n_shard" = 1 ] || die "expected 1 Slurm job of rule shard, found $n_shard"
[ "$n_ids" -le 2 ] || die "the sharded run of 2 objects submitted $n_ids Slurm jobs: $(echo $ids)"
for id in $ids; do
  grep -qE "_job_complete: JobId=$id WEXITSTATUS 0\b" "$WORK/slurmctld.log" || die "slurmctld has no successful completion of job $id"
done
"$VENV/bin/python" - "$OK/results" "$SHARDED/results" <<'EOF' || die "the sharded summary differs from the unsharded one"
import sys
import pandas as pd
from implicit3d.summary import read_summary
varying = ["train_seconds", "step_ms", "infer_points_per_s", "path"]  # timings, and where each copy of the meshes lies
plain, sharded = (read_summary(f"{d}/summary.csv").drop(columns=varying) for d in sys.argv[1:])
pd.testing.assert_frame_equal(plain, sharded, check_exact=True)
EOF
say "OK: $n_ids Slurm jobs for 2 objects ($(echo $ids | tr '\n' ' ')), summary identical to the unsharded run"

# 3. A failing job (a file that is no mesh) must be reported as failed and fail the run.
BAD="$WORK/bad"
mkdir -p "$BAD/meshes"
echo "this is not a mesh" >"$BAD/meshes/broken.obj"
say "running a workflow whose object job must fail at normalize"
if run_workflow "$BAD"; then die "the workflow with a broken mesh succeeded"; fi
bad_id=$(submitted_ids "$BAD/snakemake.log" | head -n 1)
[ -n "$bad_id" ] || { tail -n 30 "$BAD/snakemake.log"; die "the broken mesh's job was never submitted to Slurm"; }
grep -q "Error in rule object" "$BAD/snakemake.log" || die "snakemake did not report the failed object job"
grep -rq "implicit3d normalize error: .*broken.obj" "$BAD/.snakemake/slurm_logs" || die "the normalize stage's one-line error is not in the job's Slurm log"
grep -qE "SLURM-job '$bad_id' failed" "$BAD/snakemake.log" || die "the Slurm job $bad_id was not reported as failed"
grep -qE "_job_complete: JobId=$bad_id WEXITSTATUS [1-9]" "$WORK/slurmctld.log" || die "slurmctld did not see job $bad_id fail"
say "OK: job $bad_id failed in Slurm and snakemake reported it"
say "passed in $(( $(date +%s) - STARTED )) s"
