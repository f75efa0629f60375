# sourced at the start of every device command (not committed: lives in the carried .gpu/)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl >/dev/null 2>&1 || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export CLOUD_DATA_DIR=$PWD/.gpu/data CLOUD_SCOPE_CACHE=$PWD/runs/gpu/scope_cache HF_HUB_OFFLINE=1
export CLOUD_GIT_COMMIT=$(cat .gpu/COMMIT)
