#!/bin/sh
# Reproduces models/compactlm-tiny: BERT-tiny distilled from the compactlm-mini run (pipelines/compactlm-mini.sh
# first; it leaves the run folder and the token shards in $RUNS). Dropout is off: the run sees well under one epoch
# of the corpus, so there is nothing to regularize and dropout would only slow learning.
set -e
R=${RUNS:-runs}
compactlm distill --teacher $R/compactlm-mini --student-preset tiny --train $R/corpus/shards-train --val $R/corpus/shards-val \
  --out $R/compactlm-tiny --steps 1500 --batch-size 32 --seq-len 128 --lr 0.001 --warmup 100 --schedule linear \
  --temperature 2 --alpha 0.5 --dropout 0 --eval-every 500 --save-every 100 --seed 42
node scripts/ship-model.mjs --run $R/compactlm-tiny --name compactlm-tiny --heldout $R/corpus/val.csv \
  --distill-report $R/compactlm-tiny/distill_report.json --command "sh pipelines/compactlm-tiny.sh"
