#!/usr/bin/env python3
"""PyTorch peer of bench/task.mjs's fine-tuning speed: transformers' BertForSequenceClassification at BERT-mini sizes
(L4 H256 A4 I1024, V30522, dropout 0.1), batch 32 x 128 tokens, cross-entropy, clip_grad_norm_(1.0), AdamW, 2 threads.
Median examples/s over 8 steps after 3 warm-up steps. Prints one JSON line:
  {"bench":"pytorch_finetune","examples_per_s":...,"ms_per_step":...,"torch":...,"transformers":...}
or {"bench":"pytorch_finetune","skipped":"..."} when torch/transformers cannot be imported.
env: BENCH_THREADS=2 BENCH_STEPS=8
"""
import json
import os
import statistics
import time

try:
    import torch
    import transformers
    from transformers import BertConfig, BertForSequenceClassification
except Exception as e:  # noqa: BLE001 - any import failure means "no peer here"
    print(json.dumps({"bench": "pytorch_finetune", "skipped": f"{type(e).__name__}: {e}"}))
    raise SystemExit(0)

THREADS = int(os.environ.get("BENCH_THREADS", "2"))
STEPS = int(os.environ.get("BENCH_STEPS", "8"))
WARMUP = 3
B, T, C = 32, 128, 4
torch.set_num_threads(THREADS)
torch.manual_seed(0)
config = BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, num_labels=C)
model = BertForSequenceClassification(config).train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
ids = torch.randint(1000, 30000, (B, T))
mask = torch.ones(B, T, dtype=torch.long)
labels = torch.randint(0, C, (B,))
times = []
for step in range(WARMUP + STEPS):
    t0 = time.perf_counter()
    loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    if step >= WARMUP:
        times.append(time.perf_counter() - t0)
ms = 1000 * statistics.median(times)
print(json.dumps({"bench": "pytorch_finetune", "examples_per_s": B * 1000 / ms, "ms_per_step": ms, "batch_size": B, "seq_len": T,
                  "threads": THREADS, "torch": torch.__version__, "transformers": transformers.__version__}))
