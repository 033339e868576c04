#!/bin/sh
# Reproduces models/compactlm-tiny: BERT-tiny distilled in two stages (pipelines/compactlm-mini.sh first; it leaves
# the run folders and the token shards in $RUNS and ships models/compactlm-mini):
# 1. a fresh student from stage 1 of compactlm-mini ($R/compactlm-mini), 1,500 steps, lr 1e-3 ($R/compactlm-tiny;
#    its float16 copy, the model shipped before stage 2, is $R/compactlm-tiny-stage1);
# 2. that copy distilled further (--student-init, fresh AdamW) from stage 6 of compactlm-mini
#    ($R/compactlm-mini-stage6-fp16, the model shipped before stage 7), peak lr 5e-4, seed 43 ($R/compactlm-tiny-stage2, shipped as models/compactlm-tiny).
# Dropout is off: the runs see well under one epoch of the corpus, so there is nothing to regularize and dropout
# would only slow learning.
set -e
R=${RUNS:-runs}
compactlm distill --teacher $R/compactlm-mini --student-preset tiny --train $R/corpus/shards-train --val $R/corpus/shards-val \
  --out $R/compactlm-tiny --steps 1500 --batch-size 32 --seq-len 128 --lr 0.001 --warmup 100 --schedule linear \
  --temperature 2 --alpha 0.5 --dropout 0 --eval-every 500 --save-every 100 --seed 42
node scripts/ship-model.mjs --run $R/compactlm-tiny --name compactlm-tiny --heldout $R/corpus/val.csv \
  --distill-report $R/compactlm-tiny/distill_report.json --command "sh pipelines/compactlm-tiny.sh" --out $R/compactlm-tiny-stage1
compactlm distill --teacher $R/compactlm-mini-stage6-fp16 --student-init $R/compactlm-tiny-stage1 --train $R/corpus/shards-train \
  --val $R/corpus/shards-val --out $R/compactlm-tiny-stage2 --steps 1000 --batch-size 32 --seq-len 128 --lr 0.0005 \
  --warmup 100 --schedule linear --temperature 2 --alpha 0.5 --dropout 0 --eval-every 500 --save-every 100 --seed 43
node scripts/ship-model.mjs --run $R/compactlm-tiny-stage2 --name compactlm-tiny --heldout $R/corpus/val.csv \
  --distill-report $R/compactlm-tiny-stage2/distill_report.json --previous $R/compactlm-tiny-stage1/eval.json \
  --teacher "compactlm-mini after its sixth pretraining stage (25.0% masked-token accuracy; \`\$R/compactlm-mini-stage6-fp16\` of pipelines/compactlm-mini.sh)" \
  --command "sh pipelines/compactlm-tiny.sh"
