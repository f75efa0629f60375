source .gpu/env.sh
mkdir -p runs/gpu $OUT; touch runs/gpu/.start; sleep 1
G=benchmarks/configs/gpu.yaml
P=runs/gpu/plan_call3.txt
{
python3 scripts/gpu/make_plan.py --task matbench_phonons --config $G --out runs/gpu/matbench2 --first cloud | awk 'BEGIN{while((getline l < ".gpu/done_call2.txt") > 0) done[l]=1} {if (!($1 in done)) print}'
python3 scripts/gpu/make_plan.py --task unconv_2d_e_exf --config $G --out runs/gpu/unconv --first cloud
} > $P
wc -l $P
python3 scripts/run_lanes.py $P --lanes 15 --stop-at 150 --kill-at 215 --log-dir runs/gpu/logs_call3 > runs/gpu/lanes_call3.txt 2>&1
grep -c " ok " runs/gpu/lanes_call3.txt
find runs/gpu -newer runs/gpu/.start -type f ! -path '*fold_*_model*' ! -path '*/checkpoint/*' ! -path '*/best/*' ! -name '*.safetensors' > /tmp/new.txt
tar czf $OUT/results_call3.tar.gz -T /tmp/new.txt
