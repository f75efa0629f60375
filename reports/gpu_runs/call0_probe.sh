source .gpu/env.sh
T0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch,transformers,accelerate,spglib,moyopy,pymatgen.core,tokenizers;print('torch',torch.__version__,'tf',transformers.__version__,'acc',accelerate.__version__,'tok',tokenizers.__version__,'cuda',torch.cuda.is_available(), 'cpus', __import__('os').cpu_count())"
mkdir -p runs/gpu0 $OUT
cat > runs/gpu0/ft10.yaml <<'Y'
tasks:
  matbench_jdft2d:
    models:
      cloud: {train: {epochs: 10, early_stopping_patience: null}}
Y
# 1 correctness: smoke of two families on CUDA (ablations incl. canonical, Debye, Θ analysis)
s=$SECONDS; python3 benchmarks/run.py --task cv,matbench_jdft2d --smoke --out runs/gpu0/smoke --no-progress > runs/gpu0/smoke.log 2>&1; echo "smoke rc=$? $((SECONDS-s)) s"; tail -3 runs/gpu0/smoke.log
# 2 fine-tune timing, jdft2d fold 0, 10 epochs: 1 process, then 12 at once
s=$SECONDS; python3 benchmarks/run.py --task matbench_jdft2d --models cloud --folds 0 --config runs/gpu0/ft10.yaml --out runs/gpu0/p1 --no-progress > runs/gpu0/p1.log 2>&1; echo "p1 rc=$? $((SECONDS-s)) s"
s=$SECONDS; for i in $(seq 12); do python3 benchmarks/run.py --task matbench_jdft2d --models cloud --folds 0 --config runs/gpu0/ft10.yaml --out runs/gpu0/p12_$i --no-progress > runs/gpu0/p12_$i.log 2>&1 & done; wait; echo "p12 $((SECONDS-s)) s"
python3 - <<'P'
import json,glob
for f in sorted(glob.glob("runs/gpu0/p*/matbench_jdft2d/cloud/fold_0.json"))[:13]:
    r=json.load(open(f)); h=r["history"]
    print(f.split("/")[2], "time_s %.1f"%r["time_s"], "epoch_s", ["%.2f"%x["epoch_time_s"] for x in h][:4], "mae %.2f"%r["metrics"]["mae"])
P
# 3 base pretraining probe: 150 steps of batch 256; then a 3-epoch base fine-tune on jdft2d fold 0
s=$SECONDS; python3 -m cloud.train.pretrain --corpus .gpu/corpus/corpus.csv.gz --out runs/gpu0/pb --preset base --epochs 1 --max-steps 150 --batch-size 256 --lr 2e-4 --mixed-precision bf16 --no-progress > runs/gpu0/pb.log 2>&1; echo "pretrain base rc=$? $((SECONDS-s)) s"; tail -2 runs/gpu0/pb.log
python3 -c "import json;m=json.load(open('runs/gpu0/pb/manifest.json'));print({k:m[k] for k in ('best_val_loss',)}, [ (round(h['train_tokens_per_s']), round(h['epoch_time_s'],1)) for h in m['history']])"
cat > runs/gpu0/ft3.yaml <<'Y'
tasks:
  matbench_jdft2d:
    models:
      cloud: {train: {epochs: 3, early_stopping_patience: null}}
Y
s=$SECONDS; python3 benchmarks/run.py --task matbench_jdft2d --models cloud --folds 0 --config runs/gpu0/ft3.yaml --pretrained runs/gpu0/pb/final --out runs/gpu0/fb --no-progress > runs/gpu0/fb.log 2>&1; echo "ft base rc=$? $((SECONDS-s)) s"
python3 -c "import json;r=json.load(open('runs/gpu0/fb/matbench_jdft2d/cloud/fold_0.json'));print('base ft epoch_s',[round(h['epoch_time_s'],2) for h in r['history']], r['time_s'])"
# 4 scaling sweep smoke on GPU
s=$SECONDS; python3 -m cloud.analysis.scaling_sweep --corpus .gpu/corpus/corpus.csv.gz --out runs/gpu0/sweep --smoke --no-progress > runs/gpu0/sweep.log 2>&1; echo "sweep smoke rc=$? $((SECONDS-s)) s"; tail -2 runs/gpu0/sweep.log
echo "total $(( $(date +%s) - T0 )) s"
tar czf $OUT/call0.tar.gz --exclude='*.safetensors' --exclude='*.bin' --exclude='*.pt' --exclude='checkpoint' --exclude='*_model' runs/gpu0
