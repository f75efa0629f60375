#!/bin/bash
# Copy a finished benchmark run into the repository without model weights:
#   scripts/collect_run.sh RUN_DIR reports/NAME
# Keeps summary.json, leaderboard.md, manifest.json, per-fold JSON (predictions, history),
# training metrics, plots and family outputs; drops fold_*_model/ (kept fine-tuned models,
# tens of MB each) and any checkpoint that survived.
set -euo pipefail
src=$1; dest=$2
mkdir -p "$dest"
(cd "$src" && tar cf - --exclude='fold_*_model' --exclude='checkpoint' --exclude='best' \
  --exclude='*.tmp' .) | (cd "$dest" && tar xf -)
du -sh "$dest"
