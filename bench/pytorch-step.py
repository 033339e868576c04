#!/usr/bin/env python3
"""PyTorch baseline for bench/train-step.mjs: the same work on the same machine.

A plain-torch BertForMaskedLM equivalent (default BERT-mini: L4 H256 A4 I1024 V30522, post-LN, exact GELU, tied
decoder; BENCH_CONFIG sets another), B=16 T=128 by default, the MLM head run only on M=20 masked positions per
sequence (gathered rows), mean cross-entropy, clip_grad_norm_(1.0), AdamW(fused=False, foreach=False where torch has
it), dropout 0.1 (the config's), 2 threads.
Median and min over 10 steps after 3 warm-up steps. Prints one JSON line:
  {"bench":"pytorch_step","ms_per_step":...,"min_ms":...,"tokens_per_s":...,"torch":..., "blas":...}
or {"bench":"pytorch_step","skipped":"..."} when torch cannot be imported.

  .venv-bench/bin/python bench/pytorch-step.py     (or any Python with torch)
  env: BENCH_THREADS=2 BENCH_STEPS=10 BENCH_B=16 BENCH_T=128 BENCH_M=20 BENCH_CONFIG='{config.json}' BENCH_PRESET (label)
  (bench/train-step.mjs runs it on the peer Python of bench/lib/peer-python.mjs, not /usr/bin/python3)

BLAS: pip's torch wheels carry their own tuned BLAS. Debian's python3-torch is built with BLAS_INFO=generic and calls
whatever libblas.so.3 the alternatives system gives; on a machine with only the reference BLAS that is ~35x slower
than a tuned one (the "blas" field names the library loaded and OpenBLAS's kernel). To use that torch anyway, take
OpenBLAS's OpenMP build, which shares torch's OpenMP threads: install libopenblas0-openmp, or unpack it (apt-get
download + dpkg -x) and point LD_LIBRARY_PATH at its openblas-openmp/ folder. The pthread build oversubscribes 2
cores (its threads plus torch's): 5x slower, measured.
"""
import ctypes
import json
import math
import os
import statistics
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any import failure means "no torch here"
    print(json.dumps({"bench": "pytorch_step", "skipped": f"torch not importable: {type(e).__name__}: {e}"}))
    raise SystemExit(0)

# BENCH_CONFIG: the model's config.json (what bench/train-step.mjs and bench/trainer.mjs pass, so both sides run the
# same preset and dropout); BENCH_B/T/M: batch, sequence length, masked slots per sequence. Defaults: mini, 16/128/20.
CONFIG = json.loads(os.environ.get("BENCH_CONFIG") or "{}")
L = CONFIG.get("num_hidden_layers", 4)
H = CONFIG.get("hidden_size", 256)
A = CONFIG.get("num_attention_heads", 4)
I = CONFIG.get("intermediate_size", 1024)
V = CONFIG.get("vocab_size", 30522)
P = CONFIG.get("max_position_embeddings", 512)
if CONFIG.get("hidden_act", "gelu") != "gelu":
    raise SystemExit(f"pytorch-step.py: hidden_act {CONFIG['hidden_act']!r}: only exact gelu is written here")
B, T, M = (int(os.environ.get(f"BENCH_{k}", d)) for k, d in (("B", 16), ("T", 128), ("M", 20)))
DROP = CONFIG.get("hidden_dropout_prob", 0.1)
ATTN_DROP = CONFIG.get("attention_probs_dropout_prob", DROP)
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
STEPS = int(os.environ.get("BENCH_STEPS", "10"))
WARMUP = 3


class Layer(nn.Module):
    """BertLayer: self-attention + output LayerNorm, feed-forward + output LayerNorm (post-LN, as HF)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(H, 3 * H)
        self.attn_out = nn.Linear(H, H)
        self.ln1 = nn.LayerNorm(H, eps=1e-12)
        self.inter = nn.Linear(H, I)
        self.out = nn.Linear(I, H)
        self.ln2 = nn.LayerNorm(H, eps=1e-12)

    def forward(self, x, bias):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, A, H // A).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-1, -2) / math.sqrt(H // A) + bias
        probs = F.dropout(scores.softmax(-1), ATTN_DROP, self.training)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, H)
        x = self.ln1(x + F.dropout(self.attn_out(ctx), DROP, self.training))
        return self.ln2(x + F.dropout(self.out(F.gelu(self.inter(x))), DROP, self.training))


class BertMLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(V, H)
        self.pos = nn.Embedding(P, H)
        self.token_type = nn.Embedding(2, H)
        self.ln = nn.LayerNorm(H, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(L))
        self.transform = nn.Linear(H, H)
        self.tln = nn.LayerNorm(H, eps=1e-12)
        self.decoder_bias = nn.Parameter(torch.zeros(V))
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids, mask, types, positions, labels):
        x = self.word(ids) + self.pos.weight[: ids.shape[1]] + self.token_type(types)
        x = F.dropout(self.ln(x), DROP, self.training)
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        rows = x.reshape(-1, H)[positions]  # only the masked slots reach the head
        t = self.tln(F.gelu(self.transform(rows)))
        logits = F.linear(t, self.word.weight, self.decoder_bias)  # tied decoder
        return F.cross_entropy(logits, labels, ignore_index=-100)


def batch(g):
    ids = torch.randint(1000, V, (B, T), generator=g)
    mask = torch.ones(B, T, dtype=torch.long)
    positions = torch.empty(B * M, dtype=torch.long)
    labels = torch.empty(B * M, dtype=torch.long)
    for b in range(B):
        n = T - int(torch.randint(0, T // 4, (1,), generator=g))
        ids[b, n:] = 0
        mask[b, n:] = 0
        picks = (torch.randperm(n - 2, generator=g)[:M] + 1).sort().values
        positions[b * M:(b + 1) * M] = b * T + picks
        labels[b * M:(b + 1) * M] = ids[b, picks]
        ids[b, picks] = 103
    return ids, mask, torch.zeros(B, T, dtype=torch.long), positions, labels


def blas_name():
    """Torch's BLAS_INFO build setting, the BLAS library actually loaded, and OpenBLAS's kernel (core) name."""
    info = next((kv.split("=", 1)[1] for kv in torch.__config__.show().replace(",", " ").split() if kv.startswith("BLAS_INFO=")), "?")
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({ln.split()[-1] for ln in f if "blas" in ln.rsplit("/", 1)[-1].lower()})
    except OSError:
        libs = []
    core = None
    for lib in libs:
        try:
            fn = ctypes.CDLL(lib).openblas_get_corename
            fn.restype = ctypes.c_char_p
            core = fn().decode()
            break
        except (OSError, AttributeError):
            pass
    return {"build": info, "loaded": libs, "openblas_core": core}


def main():
    torch.set_num_threads(THREADS)
    torch.manual_seed(1234)
    g = torch.Generator().manual_seed(1234)
    model = BertMLM().train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    kw = {"lr": 1e-4, "betas": (0.9, 0.999), "eps": 1e-8}
    groups = [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, fused=False, foreach=False, **kw)
    except TypeError:  # older torch: no fused/foreach arguments
        opt = torch.optim.AdamW(groups, **kw)
    feeds = batch(g)
    times = []
    loss = float("nan")
    for k in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        out = model(*feeds)
        out.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss = out.item()
        if k >= WARMUP:
            times.append((time.perf_counter() - t0) * 1000)
    ms = statistics.median(times)
    print(json.dumps({
        "bench": "pytorch_step", "preset": os.environ.get("BENCH_PRESET", "mini"), "batch": B, "seq": T, "masked_per_seq": M,
        "threads": THREADS, "dropout": DROP,
        "ms_per_step": round(ms, 1), "min_ms": round(min(times), 1), "tokens_per_s": round(B * T / (ms / 1000)),
        "loss": round(loss, 4), "torch": torch.__version__, "blas": blas_name(),
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
        "load_avg": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
