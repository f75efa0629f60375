#!/bin/bash
# Copy a finished benchmark run into the repository without model weights:
#   scripts/collect_run.sh RUN_DIR reports/NAME
# Keeps summary.json, leaderboard.md, manifest.json, per-fold JSON (predictions, history),
# training metrics, plots and family outputs; drops fold_*_model/ (kept fine-tuned models,
# tens of MB each) and any checkpoint that survived.
set -euo pipefail
if [[ $# -ne 2 || $1 == -h || $1 == --help ]]; then
  echo "usage: scripts/collect_run.sh RUN_DIR DEST"
  echo
  echo "Copy a finished benchmark run into the repository without model weights."
  echo
  echo "Example:"
  echo "  scripts/collect_run.sh runs/smoke reports/smoke"
  [[ $# -ge 1 && ($1 == -h || $1 == --help) ]] && exit 0 || exit 2
fi
src=$1; dest=$2
mkdir -p "$dest"
(cd "$src" && tar cf - --exclude='fold_*_model' --exclude='checkpoint' --exclude='best' \
  --exclude='*.tmp' .) | (cd "$dest" && tar xf -)
du -sh "$dest"
