source .gpu/env.sh
mkdir -p runs/gpu $OUT
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 15 > runs/gpu/smi_call1.csv 2>&1 &
python3 scripts/gpu/make_plan.py --task cv,u --config benchmarks/configs/gpu.yaml --out runs/gpu/phonon --first cloud_debye,cloud_debye_scratch,cloud > runs/gpu/plan_call1.txt
python3 scripts/run_lanes.py runs/gpu/plan_call1.txt --lanes 15 --stop-at 395 --kill-at 465 --log-dir runs/gpu/logs_call1 > runs/gpu/lanes_call1.txt 2>&1
grep -c " ok " runs/gpu/lanes_call1.txt; grep -v " ok " runs/gpu/lanes_call1.txt | head -40
s=$SECONDS; timeout 85 python3 benchmarks/run.py --task cv,u --config benchmarks/configs/gpu.yaml --out runs/gpu/phonon --report-only --no-progress > runs/gpu/report_call1.log 2>&1; echo "report rc=$? $((SECONDS-s)) s"; tail -4 runs/gpu/report_call1.log
kill %1 2>/dev/null
tar czf $OUT/phonon.tar.gz --exclude='fold_*_model' --exclude='checkpoint' --exclude='best' runs/gpu
ls -la $OUT
