source .gpu/env.sh
mkdir -p runs/gpu $OUT; touch runs/gpu/.start; sleep 1
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 15 > runs/gpu/smi_call2.csv 2>&1 &
G=benchmarks/configs/gpu.yaml
P=runs/gpu/plan_call2.txt
{
# a: the original-split (fold 5) CLOUD-DEBYE models again, kept, for the curves and AFLOW Θ
for t in cv u; do for m in cloud_debye cloud_debye_scratch; do
  echo "$t.$m.f5keep: python3 benchmarks/run.py --task $t --models $m --folds 5 --force --out runs/gpu/phonon --no-progress --config $G"; done; done
# c: scaling sweep points, one job each (largest first); fitted afterwards over the whole grid
for sz in 12/768 8/512 6/384 4/256 2/128 1/64; do for f in 1.0 0.5 0.25 0.1; do
  echo "sweep.$(echo $sz | tr / x).$f: python3 -m cloud.analysis.scaling_sweep --corpus .gpu/corpus/corpus.csv.gz --out runs/gpu/scaling --sizes $sz --data-fractions $f --epochs 3 --batch-size 256 --lr 3e-4 --no-fit --no-progress"; done; done
python3 scripts/gpu/make_plan.py --task matbench_jdft2d --config $G --out runs/gpu/matbench --first cloud
python3 scripts/gpu/make_plan.py --task cv,u --config $G --out runs/gpu/phonon | awk 'BEGIN{while((getline l < ".gpu/done_call1.txt") > 0) done[l]=1} {if (!($1 in done) && $1 !~ /\.f5$/) print}'
python3 scripts/gpu/make_plan.py --task matbench_phonons --config $G --out runs/gpu/matbench2 --first cloud
python3 scripts/gpu/make_plan.py --task unconv_2d_e_exf --config $G --out runs/gpu/unconv --first cloud
python3 scripts/gpu/make_plan.py --task matbench_dielectric --config $G --out runs/gpu/matbench3 --first cloud
} > $P
wc -l $P
python3 scripts/run_lanes.py $P --lanes 15 --stop-at 430 --kill-at 495 --log-dir runs/gpu/logs_call2 > runs/gpu/lanes_call2.txt 2>&1
grep -c " ok " runs/gpu/lanes_call2.txt; grep -v " ok " runs/gpu/lanes_call2.txt | head -30
kill %1 2>/dev/null
for t in cv u; do for m in cloud_debye cloud_debye_scratch; do d=runs/gpu/phonon/$t/$m/fold_5_model; [ -d $d ] && tar cf $OUT/${t}_${m}_fold5_model.tar $d; done; done
find runs/gpu -newer runs/gpu/.start -type f ! -path '*fold_*_model*' ! -path '*/checkpoint/*' ! -path '*/best/*' ! -name '*.safetensors' > /tmp/new.txt
tar czf $OUT/results_call2.tar.gz -T /tmp/new.txt
ls -la $OUT
