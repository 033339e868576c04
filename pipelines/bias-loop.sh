#!/bin/sh
# Bias mitigation, end to end, on a templated sentiment set with a planted gender shortcut (README: "Bias
# mitigation, end to end"): bias-report writes Kamiran–Calders weights, finetune trains with and without them,
# eval --protected measures EOD/AOD of the predictions on a balanced test set; a reference model trains on the same
# sentences with unbiased names. ~3.5 min per seed on 2 shared cores.
#   sh pipelines/bias-loop.sh                 # seeds 42 1 2, outputs under runs/
#   RUNS=/tmp/r SEEDS=42 BIAS=0.9 sh pipelines/bias-loop.sh
# A model folder that is already complete is not retrained (delete it to retrain).
set -e
cd "$(dirname "$0")/.."
command -v compactlm >/dev/null 2>&1 || compactlm() { ./bin/compactlm "$@"; }
R=${RUNS:-runs}
SEEDS=${SEEDS:-42 1 2}
D=$R/data/templated-bias
D0=$R/data/templated-bias-unbiased
B=$R/bias-loop
FAIR="--protected gender --label label --privileged male --favorable 1"

# 1. The data: train biased (P(male | positive) = P(female | negative) = BIAS), val and test balanced.
node scripts/templated-bias.mjs --out $D --seed 42 --bias ${BIAS:-0.8} --train 1800 --val 300 --test 600 > /dev/null
#    The reference: the same sentences in every split, names independent of the label in train too (same test.csv).
node scripts/templated-bias.mjs --out $D0 --seed 42 --bias 0.5 --train 1800 --val 300 --test 600 > /dev/null
mkdir -p $B
# 2. Reweighing weights of the training rows (a "weight" column); validation is unweighted.
compactlm bias-report $D/train.csv $FAIR --weights $B/train.weighted.csv --report $B/train-bias.json
# 3. Fine-tune compactlm-tiny without the weights (base), with them (rw), and on unbiased data (ref);
# 4. evaluate each on the balanced test set.
for S in $SEEDS; do
  for V in base rw ref; do
    M=$B/$V-s$S
    if [ ! -f $M/model.safetensors ]; then
      case $V in
        base) DATA="--train $D/train.csv --val $D/val.csv" ;;
        rw) DATA="--train $B/train.weighted.csv --val $D/val.csv --weight-column weight" ;;
        ref) DATA="--train $D0/train.csv --val $D0/val.csv" ;;
      esac
      compactlm finetune --model models/compactlm-tiny $DATA --label-column label --out $M \
        --epochs 4 --lr 3e-4 --dropout 0.1 --seed $S
    fi
    compactlm eval --model $M --test $D/test.csv --label-column label \
      --protected gender --privileged male --favorable 1 --report $B/eval-$V-s$S.json > /dev/null
  done
done
# 5. The table: accuracy, EOD, AOD and per-group accuracy/TPR/FPR, per seed and mean ± sd.
node -e '
const [dir, ...seeds] = process.argv.slice(1);
const r = (v, s) => JSON.parse(require("fs").readFileSync(`${dir}/eval-${v}-s${s}.json`, "utf8"));
const f = (j) => { const g = j.bias.groups.by_value; return { acc: j.accuracy, eod: j.bias.equal_opportunity_difference,
  aod: j.bias.average_odds_difference, acc_m: g.male.accuracy, acc_f: g.female.accuracy, tpr_m: g.male.tpr,
  tpr_f: g.female.tpr, fpr_m: g.male.fpr, fpr_f: g.female.fpr, sel_m: g.male.selection_rate, sel_f: g.female.selection_rate }; };
const keys = Object.keys(f(r("base", seeds[0])));
console.log(`| run | seed | ${keys.join(" | ")} |\n|${" --- |".repeat(keys.length + 2)}`);
for (const v of ["base", "rw", "ref"]) {
  const rows = seeds.map((s) => f(r(v, s)));
  rows.forEach((x, i) => console.log(`| ${v} | ${seeds[i]} | ${keys.map((k) => x[k].toFixed(3)).join(" | ")} |`));
  const m = (k) => rows.reduce((a, x) => a + x[k], 0) / rows.length;
  const sd = (k) => Math.sqrt(rows.reduce((a, x) => a + (x[k] - m(k)) ** 2, 0) / Math.max(1, rows.length - 1));
  console.log(`| ${v} | mean ± sd | ${keys.map((k) => `${m(k).toFixed(3)} ± ${sd(k).toFixed(3)}`).join(" | ")} |`);
}' $B $SEEDS | tee $B/summary.md
