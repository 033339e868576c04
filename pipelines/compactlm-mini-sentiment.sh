#!/bin/sh
# Reproduces models/compactlm-mini-sentiment: the dvc.yaml stages split_sentiment and finetune (params.yaml), i.e.
# compactlm-mini fine-tuned on the bundled UCI sentiment sentences, then shipped with readable label names. It was
# fine-tuned from stage 6 of compactlm-mini: that float16 folder is $R/compactlm-mini-stage6-fp16 from
# pipelines/compactlm-mini.sh (the finetune stage of dvc.yaml uses models/compactlm-mini, whichever stage ships).
set -e
R=${RUNS:-runs}
compactlm split datasets/sentiment.csv --out $R/data/sentiment --ratios 0.7,0.15,0.15 --stratify label --seed 42
compactlm finetune --model $R/compactlm-mini-stage6-fp16 --train $R/data/sentiment/train.csv --val $R/data/sentiment/val.csv \
  --label-column label --out $R/models/sentiment-teacher --epochs 4 --batch-size 32 --max-length 128 --lr 0.0003 \
  --warmup 0.1 --dropout 0.1 --seed 42
node scripts/ship-classifier.mjs --run $R/models/sentiment-teacher --name compactlm-mini-sentiment \
  --train $R/data/sentiment/train.csv --test $R/data/sentiment/test.csv --labels 0=negative,1=positive \
  --description "Sentiment of English review sentences (negative / positive), for CPUs and edge devices." \
  --base "compactlm-mini after its sixth pretraining stage (25.0% masked-token accuracy on the held-out corpus; \`\$R/compactlm-mini-stage6-fp16\` of pipelines/compactlm-mini.sh)" \
  --command "sh pipelines/compactlm-mini-sentiment.sh"
