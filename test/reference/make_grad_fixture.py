#!/usr/bin/env python3
"""Freezes torch autograd's masked-LM loss and parameter gradients for a tiny BERT into a JSON fixture.

Hugging Face transformers' BertForMaskedLM (eager attention, dropout 0, float64 on CPU) on a fixed batch, with
fixed weights that test/reference/our-gradients.ts rebuilds bit for bit from the same recipe (`weight_values`),
and the loss CompactLM trains with: mean cross-entropy over the masked slots (labels -100 elsewhere), which is
what BertForMaskedLM(labels=...) computes. test/reference/gradients.test.ts asserts CompactLM's compiled
gradients against the file without Python; test/reference/hf-stack.test.ts reruns this script (when a Python with
torch is there) and checks that the frozen numbers still equal what torch computes.

Two cases share the batch and the weights:
  * "float64-gelu_new": the tanh GELU, for CompactLM's float64 graph (ORT has no float64 Erf), so the comparison
    is of the math alone;
  * "float32-gelu": the exact (erf) GELU of the default config, for the float32 graph train_step.onnx runs (fused
    LayerNormalization, Gelu/Erf kernels); torch still computes in float64, the exact answer for those weights.

The vocabulary is 97 tokens, not 30,522: the graph builds the same ops for any size (the word-embedding table
takes the scatter-add gradient above 16 rows, as the real one does), and every gradient then fits in the file.

Usage:  python test/reference/make_grad_fixture.py [OUT.json]   (default test/fixtures/reference/grad-2l-h8.json)
"""
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import BertConfig, BertForMaskedLM

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "reference", "grad-2l-h8.json"))

CONFIG = {
    "vocab_size": 97,
    "hidden_size": 8,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 16,
    "max_position_embeddings": 16,
    "type_vocab_size": 2,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
}
CASES = [("float64-gelu_new", "gelu_new", "float64"), ("float32-gelu", "gelu", "float32")]

# B=2, T=8; the second sequence has two [PAD] (id 0) positions; ids repeat so row gradients accumulate.
BATCH = {
    "input_ids": [[3, 17, 5, 42, 5, 96, 11, 2], [3, 60, 5, 33, 77, 2, 0, 0]],
    "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0]],
    "token_type_ids": [[0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0]],
    # Flat rows b*T + t of the [B*T, H] hidden states; the last slot is unused (label -100), as when a sequence
    # has fewer masked tokens than slots.
    "masked_positions": [1, 4, 6, 10, 12, 8],
    "masked_labels": [17, 42, 11, 60, 5, -100],
}


def mix32(x):
    """lowbias32 (Chris Wellons' integer hash) on unsigned 32-bit ints."""
    x &= 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def weight_values(name, n):
    """Element i of parameter `name`: v = (mix32(fnv1a32(name) + i*0x9E3779B9) >> 8) / 2^23 - 1 in [-1, 1), exact;
    LayerNorm weights 1 + v/4, everything else v/2; rounded to float32 (the same recipe as our-gradients.ts)."""
    h0 = fnv1a32(name)
    i = np.arange(n, dtype=np.uint64)
    x = (np.uint64(h0) + i * np.uint64(0x9E3779B9)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    v = (x >> np.uint64(8)).astype(np.float64) / 2.0**23 - 1.0
    for k in (0, n - 1):  # the vectorized hash equals the scalar one
        assert int(x[k]) == mix32(h0 + k * 0x9E3779B9)
    out = 1.0 + v / 4 if name.endswith("LayerNorm.weight") else v / 2
    return out.astype(np.float32)


def b64(a, dtype):
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def run_case(hidden_act):
    config = BertConfig(**CONFIG, hidden_act=hidden_act)
    config._attn_implementation = "eager"
    model = BertForMaskedLM(config).double().eval()  # eval: no dropout (the probabilities are 0 anyway)
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight, "decoder not tied"
    params = dict(model.named_parameters())  # tied tensors listed once, in state_dict order
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(weight_values(name, p.numel()).reshape(p.shape)).double())
    ids = torch.tensor(BATCH["input_ids"])
    B, T = ids.shape
    labels = torch.full((B * T,), -100, dtype=torch.long)
    for row, label in zip(BATCH["masked_positions"], BATCH["masked_labels"]):
        if label != -100:
            labels[row] = label
    out = model(input_ids=ids, attention_mask=torch.tensor(BATCH["attention_mask"]),
                token_type_ids=torch.tensor(BATCH["token_type_ids"]), labels=labels.view(B, T))
    # Our definition, written out: mean cross-entropy over the labelled rows. It must equal HF's own loss.
    mine = torch.nn.functional.cross_entropy(out.logits.view(B * T, -1), labels, ignore_index=-100, reduction="mean")
    assert abs(mine.item() - out.loss.item()) < 1e-12, (mine.item(), out.loss.item())
    model.zero_grad()
    mine.backward()
    grads = {}
    for name, p in params.items():
        g = p.grad.detach().numpy()
        grads[name] = {"shape": list(p.shape), "float64": b64(g, "<f8"), "max_abs": float(np.abs(g).max())}
    return mine.item(), grads


def main(out=DEFAULT_OUT):
    torch.manual_seed(0)
    fixture = {
        "about": "torch autograd loss and gradients of HF BertForMaskedLM; written by test/reference/make_grad_fixture.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "config": CONFIG,
        "batch": BATCH,
        "weights": "float32(v/2), LayerNorm weights float32(1 + v/4), v = (mix32(fnv1a32(name) + i*0x9E3779B9) >> 8) / 2^23 - 1",
        "cases": [],
    }
    # The weights as float32 bytes in state_dict order: our-gradients.ts must rebuild exactly these.
    params = BertForMaskedLM(BertConfig(**CONFIG)).named_parameters()
    fixture["weights_sha256"] = hashlib.sha256(
        b"".join(weight_values(n, p.numel()).astype("<f4").tobytes() for n, p in params)).hexdigest()
    for case, act, dtype in CASES:
        loss, grads = run_case(act)
        fixture["cases"].append({"name": case, "hidden_act": act, "graph_dtype": dtype, "loss": loss, "grads": grads})
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(json.dumps({"wrote": out, "cases": [c["name"] for c in fixture["cases"]],
                      "loss": [c["loss"] for c in fixture["cases"]], "params": len(fixture["cases"][0]["grads"])}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
