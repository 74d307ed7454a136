#!/usr/bin/env bash
# Submits a topdown batch to Slurm as a job array of N shards plus a merge job that runs
# when every shard has succeeded (afterok). OUT must be on a filesystem all nodes share.
# Usage: scripts/slurm-array.sh JOBS OUT N [extra sbatch options, e.g. --partition=gpu]
# Each shard task runs `topdown batch JOBS -o OUT`; topdown takes its shard from
# SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT. Resubmitting after a failure renders only
# what is missing (completion records). docs/farm.md explains the requests.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,8p' "$0"
  exit 1
fi
jobs=$(readlink -f "$1")
out=$(readlink -f "$2")
n=$3
shift 3
topdown=${TOPDOWN:-$(readlink -f "$(dirname "$0")/../build/topdown")}
mkdir -p "$out/logs"
array=$(sbatch --parsable --job-name=topdown-batch --array=0-$((n - 1)) \
  --cpus-per-task="${TOPDOWN_CPUS:-4}" --mem="${TOPDOWN_MEM:-8G}" \
  --output="$out/logs/shard-%a.log" "$@" \
  --wrap "OMP_NUM_THREADS=\${SLURM_CPUS_PER_TASK:-1} $topdown batch $jobs -o $out")
array=${array%%;*}
merge=$(sbatch --parsable --job-name=topdown-merge --dependency=afterok:"$array" \
  --cpus-per-task=1 --mem=1G --output="$out/logs/merge.log" "$@" \
  --wrap "$topdown merge $out")
merge=${merge%%;*}
echo "submitted shards as job array $array (0-$((n - 1))) and the merge as job $merge"
echo "follow with: squeue -j $array,$merge   results: $out/batch.json"
