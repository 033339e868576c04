#!/bin/sh
# Reproduces models/compactlm-mini exactly on the same corpus build (same bytes: resumed runs are exact), in eight
# stages:
# 1. from scratch, B32 T128, lr 1e-3, dropout 0.1, 3,000 steps ($R/compactlm-mini; compactlm-tiny is distilled
#    from this run and compactlm-mini-sentiment fine-tuned from its float16 copy, $R/compactlm-mini-stage1);
# 2. that float16 copy pretrained further (--init, fresh AdamW): lr 5e-4, 200 warm-up steps, linear decay, dropout
#    0, two data-parallel workers of 16 sequences each ($R/compactlm-mini-stage2; its float16 copy, the model shipped
#    before stage 3, is $R/compactlm-mini-stage2-fp16);
# 3. that copy pretrained further with the same recipe and a new seed (43: a fresh data order and fresh masks),
#    $R/compactlm-mini-stage3 (its float16 copy: $R/compactlm-mini-stage3-fp16);
# 4. that copy pretrained further, same recipe, seed 44: $R/compactlm-mini-stage4 (float16: $R/compactlm-mini-stage4-fp16);
# 5. that copy pretrained further, seed 45, at a lower peak learning rate (3e-4, to lose less at the warm restart):
#    $R/compactlm-mini-stage5 (float16: $R/compactlm-mini-stage5-fp16);
# 6. that copy pretrained further, seed 46, peak lr 3e-4: $R/compactlm-mini-stage6 (float16: $R/compactlm-mini-stage6-fp16;
#    compactlm-mini-sentiment is fine-tuned from it and compactlm-tiny's stage 2 distilled from it);
# 7. that copy pretrained further, seed 47, peak lr 3e-4: $R/compactlm-mini-stage7 (float16: $R/compactlm-mini-stage7-fp16);
# 8. that copy pretrained further, seed 48, peak lr 3e-4, 4,000 steps: $R/compactlm-mini-stage8, shipped as models/compactlm-mini.
# Stages 4-8 read a corpus rebuilt on a later machine whose Debian info manuals differed in a few passages (same sizes and
# card; 3 of the 185 committed held-out sample rows differ), so stages 1-3 and 4-8 saw very slightly different text.
# Each stage was re-planned while it ran (the sessions had fixed ends), so it is several invocations: each stops at
# the step where the plan changed and the next resumes with the new --steps (the linear decay is re-planned there).
# Needs the corpus: apt-get install the packages in datasets/README-corpus.md, then `npm run datasets -- --corpus`.
set -e
R=${RUNS:-runs}
compactlm tokenize $R/corpus/train.csv --text-column text --out $R/corpus/shards-train --seq-len 512
compactlm tokenize $R/corpus/val.csv --text-column text --out $R/corpus/shards-val --seq-len 512
run() {
  compactlm pretrain --train $R/corpus/shards-train --val $R/corpus/shards-val --out $R/compactlm-mini --preset mini \
    --batch-size 32 --seq-len 128 --lr 0.001 --warmup 100 --schedule linear --eval-every 500 --save-every 100 --seed 42 "$@"
}
run --steps 4000 --stop-after 500
run --steps 2300 --stop-after 700 --resume
run --steps 3600 --stop-after 800 --resume
run --steps 3000 --resume
node scripts/ship-model.mjs --run $R/compactlm-mini --name compactlm-mini --heldout $R/corpus/val.csv --command "sh pipelines/compactlm-mini.sh" \
  --out $R/compactlm-mini-stage1
# Stages 2-8 share one recipe but for seed and peak lr: `further OUT INIT SEED LR [flags]` pretrains the float16
# copy $R/INIT further into $R/OUT.
further() {
  out=$1 init=$2 seed=$3 lr=$4
  shift 4
  compactlm pretrain --train $R/corpus/shards-train --val $R/corpus/shards-val --out $R/$out --init $R/$init \
    --batch-size 16 --grad-accum 2 --workers 2 --seq-len 128 --lr $lr --warmup 200 --schedule linear --dropout 0 \
    --eval-every 500 --save-every 100 --seed $seed "$@"
}
ship() {
  run=$1 previous=$2
  shift 2
  node scripts/ship-model.mjs --run $R/$run --name compactlm-mini --heldout $R/corpus/val.csv \
    --previous $R/$previous/eval.json --command "sh pipelines/compactlm-mini.sh" "$@"
}
further compactlm-mini-stage2 compactlm-mini-stage1 42 0.0005 --steps 7000 --stop-after 300
further compactlm-mini-stage2 compactlm-mini-stage1 42 0.0005 --steps 4600 --stop-after 900 --resume
further compactlm-mini-stage2 compactlm-mini-stage1 42 0.0005 --steps 3600 --resume
ship compactlm-mini-stage2 compactlm-mini-stage1 --out $R/compactlm-mini-stage2-fp16
further compactlm-mini-stage3 compactlm-mini-stage2-fp16 43 0.0005 --steps 3000 --stop-after 1200
further compactlm-mini-stage3 compactlm-mini-stage2-fp16 43 0.0005 --steps 3600 --resume
ship compactlm-mini-stage3 compactlm-mini-stage2-fp16 --out $R/compactlm-mini-stage3-fp16
further compactlm-mini-stage4 compactlm-mini-stage3-fp16 44 0.0005 --steps 3000
further compactlm-mini-stage4 compactlm-mini-stage3-fp16 44 0.0005 --steps 4000 --resume
ship compactlm-mini-stage4 compactlm-mini-stage3-fp16 --out $R/compactlm-mini-stage4-fp16
further compactlm-mini-stage5 compactlm-mini-stage4-fp16 45 0.0003 --steps 2400 --stop-after 100
further compactlm-mini-stage5 compactlm-mini-stage4-fp16 45 0.0003 --steps 1800 --stop-after 1100 --resume
further compactlm-mini-stage5 compactlm-mini-stage4-fp16 45 0.0003 --steps 1500 --resume
ship compactlm-mini-stage5 compactlm-mini-stage4-fp16 --out $R/compactlm-mini-stage5-fp16
further compactlm-mini-stage6 compactlm-mini-stage5-fp16 46 0.0003 --steps 2400
ship compactlm-mini-stage6 compactlm-mini-stage5-fp16 --out $R/compactlm-mini-stage6-fp16
further compactlm-mini-stage7 compactlm-mini-stage6-fp16 47 0.0003 --steps 2800 --stop-after 600
further compactlm-mini-stage7 compactlm-mini-stage6-fp16 47 0.0003 --steps 2000 --resume
ship compactlm-mini-stage7 compactlm-mini-stage6-fp16 --out $R/compactlm-mini-stage7-fp16
further compactlm-mini-stage8 compactlm-mini-stage7-fp16 48 0.0003 --steps 4000
ship compactlm-mini-stage8 compactlm-mini-stage7-fp16
