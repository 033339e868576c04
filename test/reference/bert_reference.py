#!/usr/bin/env python3
"""BertForMaskedLM's forward pass in plain PyTorch, from a CompactLM/HF model folder, to cross-check the ONNX graphs.

Written from transformers' modeling_bert.py (BertEmbeddings, BertSelfAttention with the additive
(1 - mask) * finfo(float32).min mask, BertSelfOutput, BertIntermediate/BertOutput, BertLMPredictionHead with the
decoder tied to the word embeddings), in eval mode (no dropout), float32 like HF. Debian has no
python3-transformers or python3-safetensors, so the folder's model.safetensors is parsed per the format spec.

Usage (driven by test/reference/bert-reference.mjs; not part of jest):
  /usr/bin/python3 test/reference/bert_reference.py MODEL_DIR INPUT.json OUTPUT.f32
INPUT.json: {"input_ids": [[...]], "attention_mask": [[...]], "token_type_ids": [[...]]}
OUTPUT.f32: logits [B, T, V] as raw little-endian float32 (printed: shape and a few values).
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        b, e = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[8 + n + b:8 + n + e]), dtype=torch.float32).reshape(info["shape"])
    return out


def gelu(x, act):
    return F.gelu(x) if act == "gelu" else F.gelu(x, approximate="tanh")


def forward(c, w, ids, mask, types):
    B, T = ids.shape
    H, A = c["hidden_size"], c["num_attention_heads"]
    d = H // A
    eps = c["layer_norm_eps"]
    lin = lambda x, p: F.linear(x, w[p + ".weight"], w[p + ".bias"])
    ln = lambda x, p: F.layer_norm(x, (H,), w[p + ".weight"], w[p + ".bias"], eps)

    pos = torch.arange(T)
    x = w["bert.embeddings.word_embeddings.weight"][ids] + w["bert.embeddings.position_embeddings.weight"][pos] \
        + w["bert.embeddings.token_type_embeddings.weight"][types]
    x = ln(x, "bert.embeddings.LayerNorm")
    ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
    heads = lambda t: t.view(B, T, A, d).permute(0, 2, 1, 3)
    for l in range(c["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}"
        q, k, v = (heads(lin(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + ext
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).reshape(B, T, H)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = gelu(lin(x, f"{p}.intermediate.dense"), c["hidden_act"])
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    t = ln(gelu(lin(x, "cls.predictions.transform.dense"), c["hidden_act"]), "cls.predictions.transform.LayerNorm")
    return F.linear(t, w["bert.embeddings.word_embeddings.weight"], w["cls.predictions.bias"])


def main():
    folder, inp, out = sys.argv[1:4]
    with open(f"{folder}/config.json") as f:
        c = json.load(f)
    w = load_safetensors(f"{folder}/model.safetensors")
    with open(inp) as f:
        batch = json.load(f)
    t = lambda k: torch.tensor(batch[k], dtype=torch.int64)
    with torch.no_grad():
        logits = forward(c, w, t("input_ids"), t("attention_mask"), t("token_type_ids"))
    with open(out, "wb") as f:
        f.write(logits.contiguous().numpy().astype("<f4").tobytes())
    print(json.dumps({"torch": torch.__version__, "shape": list(logits.shape), "first": logits.flatten()[:3].tolist()}))


if __name__ == "__main__":
    main()
