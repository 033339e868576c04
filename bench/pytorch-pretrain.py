#!/usr/bin/env python3
"""The PyTorch peer of `compactlm pretrain`'s learning curve: Hugging Face BertForMaskedLM trained on the same token
shards, packed the same way, with the same recipe, so a slow-falling loss can be told apart from a trainer bug.

It follows compactlm pretrain where the result depends on it and is plain Hugging Face elsewhere:
- data: the shards of `compactlm tokenize`; each document's [CLS]/[SEP] stripped, documents joined with one [SEP],
  cut into pieces of T-2 framed as [CLS] piece [SEP] (src/train/packing.ts; the rule that drops a separator that
  would open a block is not copied: a block can start with [SEP] here), a fresh seeded permutation per epoch;
- masking: HF DataCollatorForLanguageModeling (15%, 80/10/10, specials excluded; the random token drawn from ids
  ≥ 999, past bert-base-uncased's specials and [unused] slots), validation masked with a fixed seed (0), loss and accuracy over every masked token;
- model: BertConfig with the preset's sizes, HF's init, dropout 0 (hidden and attention), tied decoder;
- AdamW (0.9, 0.999, 1e-8), weight decay 0.01 except biases and LayerNorm weights, clip_grad_norm_(1.0), linear
  warm-up then constant learning rate (compactlm's `--schedule constant`).
Prints one JSON line per evaluation: {"step","train_loss","val_loss","acc","s"}; `eval` mode scores a model folder
(e.g. a compactlm run's) on the same masked validation blocks.

  python bench/pytorch-pretrain.py train --train SHARDS --val SHARDS --preset tiny --steps 600 --lr 1e-3 --warmup 100
  python bench/pytorch-pretrain.py eval --model runs/x --val SHARDS
against
  compactlm pretrain --train SHARDS --val SHARDS --preset tiny --steps 600 --lr 1e-3 --warmup 100 --schedule constant \
    --dropout 0 --threads 1 --eval-every 150 --seed 42 --out runs/x
"""

import argparse, json, math, os, sys, time
import numpy as np, torch
from transformers import BertConfig, BertForMaskedLM

PRESETS = {'tiny': (2, 128, 2, 512), 'mini': (4, 256, 4, 1024)}
PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103

def read_shards(d):
    man = json.load(open(os.path.join(d, 'manifest.json')))
    for s in man['shards']:
        ids = np.fromfile(os.path.join(d, s['file']), dtype='<u2')
        idx = np.fromfile(os.path.join(d, s['index']), dtype='<u4')
        for i in range(len(idx) - 1):
            yield ids[idx[i]:idx[i + 1]]

def pack(d, T):
    stream = []
    first = True
    for doc in read_shards(d):
        doc = doc[1:-1] if len(doc) >= 2 and doc[0] == CLS and doc[-1] == SEP else doc
        if not first: stream.append(np.array([SEP], dtype=np.uint16))
        stream.append(doc); first = False
    s = np.concatenate(stream)
    n = len(s) // (T - 2)
    body = s[: n * (T - 2)].reshape(n, T - 2).astype(np.int64)
    blocks = np.concatenate([np.full((n, 1), CLS), body, np.full((n, 1), SEP)], axis=1)
    return torch.from_numpy(blocks)

def mask(ids, g, vocab=30522, p=0.15):
    labels = ids.clone()
    special = (ids == PAD) | (ids == UNK) | (ids == CLS) | (ids == SEP) | (ids == MASK)
    sel = (torch.rand(ids.shape, generator=g) < p) & ~special
    labels[~sel] = -100
    x = ids.clone()
    u = torch.rand(ids.shape, generator=g)
    x[sel & (u < 0.8)] = MASK
    rnd = sel & (u >= 0.8) & (u < 0.9)
    x[rnd] = torch.randint(999, vocab, ids.shape, generator=g)[rnd]
    return x, labels

def evaluate(model, val, bs=64):
    g = torch.Generator().manual_seed(0)
    model.eval(); tot = 0.0; n = 0; hit = 0
    with torch.no_grad():
        for i in range(0, len(val), bs):
            x, y = mask(val[i:i + bs], g)
            logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits
            m = y != -100
            lp = torch.log_softmax(logits[m].float(), -1)
            tot += -lp.gather(1, y[m][:, None]).sum().item(); n += m.sum().item()
            hit += (lp.argmax(-1) == y[m]).sum().item()
    model.train()
    return tot / n, hit / n

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('mode')
    ap.add_argument('--train'); ap.add_argument('--val'); ap.add_argument('--model')
    ap.add_argument('--preset', default='tiny'); ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--lr', type=float, default=1e-3); ap.add_argument('--warmup', type=int, default=100)
    ap.add_argument('--bs', type=int, default=16); ap.add_argument('--T', type=int, default=128)
    ap.add_argument('--eval-every', type=int, default=300); ap.add_argument('--val-blocks', type=int, default=2000)
    ap.add_argument('--threads', type=int, default=1); ap.add_argument('--seed', type=int, default=42)
    a = ap.parse_args(); torch.set_num_threads(a.threads)
    val = pack(a.val, a.T)[: a.val_blocks]
    if a.mode == 'eval':
        model = BertForMaskedLM.from_pretrained(a.model, torch_dtype=torch.float32)
        l, acc = evaluate(model, val); print(json.dumps({'model': a.model, 'val_loss': round(l, 4), 'acc': round(acc, 4), 'blocks': len(val)})); return
    torch.manual_seed(a.seed)
    L, H, A, I = PRESETS[a.preset]
    cfg = BertConfig(num_hidden_layers=L, hidden_size=H, num_attention_heads=A, intermediate_size=I,
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForMaskedLM(cfg)
    train = pack(a.train, a.T)
    nd = ['bias', 'LayerNorm.weight']
    groups = [{'params': [p for n, p in model.named_parameters() if not any(k in n for k in nd)], 'weight_decay': 0.01},
              {'params': [p for n, p in model.named_parameters() if any(k in n for k in nd)], 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / a.warmup))
    g = torch.Generator().manual_seed(a.seed)
    perm = torch.randperm(len(train), generator=g); pos = 0
    t0 = time.time()
    for step in range(1, a.steps + 1):
        if pos + a.bs > len(perm): perm = torch.randperm(len(train), generator=g); pos = 0
        x, y = mask(train[perm[pos:pos + a.bs]], g); pos += a.bs
        out = model(input_ids=x, attention_mask=torch.ones_like(x), labels=y)
        out.loss.backward(); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step(); opt.zero_grad()
        if step % a.eval_every == 0 or step == a.steps:
            l, acc = evaluate(model, val)
            print(json.dumps({'step': step, 'train_loss': round(out.loss.item(), 4), 'val_loss': round(l, 4), 'acc': round(acc, 4), 's': round(time.time() - t0, 1)}), flush=True)

main()
