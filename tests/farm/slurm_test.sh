#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost: munged, slurmctld and slurmd started here
# (no systemd) with a temporary slurm.conf, a batch submitted as a 4-task job array plus a
# merge job that depends on it (afterok), polled with scontrol, and the merged result
# checked against an unsharded batch. Every daemon started here is stopped by PID.
# Exit 77 (ctest: skipped) with a message when Slurm or munge is not installed.
set -u
topdown="$(readlink -f "$1")"
for tool in munged mungekey slurmctld slurmd sbatch scontrol; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    echo "SKIP: $tool not installed (Debian: slurmctld slurmd slurm-client munge; scripts/setup.sh --slurm)"
    exit 77
  fi
done
export PATH="/usr/sbin:$PATH"
dir=$(mktemp -d /tmp/topdown-slurm.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$dir"/*.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

host=$(hostname -s)
port=$((20000 + RANDOM % 20000))
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"

# munge with its own key and socket.
mungekey --create --keyfile="$dir/munge/munge.key" --force >/dev/null 2>&1 || \
  dd if=/dev/urandom of="$dir/munge/munge.key" bs=1 count=1024 2>/dev/null
chmod 600 "$dir/munge/munge.key"
munged --force --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge.log" --seed-file="$dir/munge/seed" \
  || fail "munged did not start"
for _ in $(seq 1 50); do [ -f "$dir/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$dir/munge/munged.pid")")

cpus=$(nproc)
cat >"$dir/slurm.conf" <<CONF
ClusterName=topdowntest
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.out.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed" && break
  sleep 0.2
done
sinfo -h -o %T 2>/dev/null | grep -qE "idle|mixed" || fail "the node did not come up"

# Four sessions, an unsharded reference, then the job array and the merge. The job files
# read stems from the song folders beside them: allowed (sbatch passes the environment).
export TOPDOWN_ALLOW_PATH="$dir"
mkdir -p "$dir/jobs"
for n in 1 2 3 4 5; do
  "$topdown" demo --export "$dir/song$n" --seconds $((3 + n)) --tracks $((8 + n)) >/dev/null || fail "export"
  sed "s|stems/|../song$n/stems/|" "$dir/song$n/session.toml" >"$dir/jobs/song$n.toml"
done
"$topdown" batch "$dir/jobs" -o "$dir/ref" --backend cpu >/dev/null 2>&1 || fail "reference batch"

array=$(sbatch --parsable --array=0-3 --output="$dir/shard-%a.log" \
  --wrap "$topdown batch $dir/jobs -o $dir/farm --backend cpu") || fail "sbatch array"
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:$array --output="$dir/merge-job.log" \
  --wrap "$topdown merge $dir/farm") || fail "sbatch merge"
merge=${merge%%;*}
echo "submitted array $array and merge $merge"
state=""
for _ in $(seq 1 300); do
  state=$(scontrol show job "$merge" 2>/dev/null | grep -o "JobState=[A-Z_]*" | cut -d= -f2)
  case "$state" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL) break ;; esac
  sleep 0.2
done
[ "$state" = "COMPLETED" ] || fail "merge job ended $state"
ls "$dir/farm" | grep -c "batch-shard-.*-of-4.json" | grep -q 4 || fail "not four shard summaries"
for n in 1 2 3 4 5; do
  for f in master.wav report.json; do
    cmp -s "$dir/ref/song$n/$f" "$dir/farm/song$n/$f" || fail "song$n/$f differs from the unsharded batch"
  done
done
python3 - "$dir/ref/batch.json" "$dir/farm/batch.json" <<'PY' || fail "merged batch.json differs"
import json, sys
def rows(p):
    return [{k: v for k, v in s.items() if k != "wall_s"} for s in json.load(open(p))["sessions"]]
assert rows(sys.argv[1]) == rows(sys.argv[2])
PY
echo "slurm job array + merge equals the unsharded batch"
