#!/bin/sh
# Reproduces models/compactlm-mini exactly (same bytes: resumed runs are exact). The run was re-planned three times
# while it ran (the session had a fixed end), so it is four invocations: each stops at the step where the plan
# changed and the next resumes with the new --steps (the linear decay is re-planned from there).
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
node scripts/ship-model.mjs --run $R/compactlm-mini --name compactlm-mini --heldout $R/corpus/val.csv --command "sh pipelines/compactlm-mini.sh"
