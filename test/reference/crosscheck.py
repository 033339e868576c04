#!/usr/bin/env python3
"""Cross-checks CompactLM's model folders against PyTorch (Debian python3-torch 1.13), outside jest.

Debian has no python3-transformers or python3-safetensors, so this script
  * parses safetensors per the format spec with torch/numpy (its own reader, written from the spec),
  * builds BertForMaskedLM from torch.nn modules with the attribute names of HF modeling_bert.py, so torch itself
    produces the state_dict names, order and shapes, and loads the folder into it with strict key checking
    (the tied decoder weight/bias excepted, as HF's _tied_weights_keys does),
  * counts bert-base parameters on the meta device,
  * writes files with F32/F16/BF16/I64 tensors laid out as the reference Rust writer does, for the TypeScript reader.

Usage (run by test/reference/crosscheck.mjs):
  /usr/bin/python3 test/reference/crosscheck.py check-folder DIR
  /usr/bin/python3 test/reference/crosscheck.py write-file OUT.safetensors OUT.json
  /usr/bin/python3 test/reference/crosscheck.py rewrite IN.safetensors OUT.safetensors
"""
import json
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
# The reference Rust Dtype enum order (increasing alignment); the writer sorts by it, descending.
ENUM_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
              "I64", "U64"]


def read_safetensors(path):
    """Parse per the spec; returns (header_len, raw header text, metadata, {name: tensor}) and checks layout."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    text = data[8:8 + n].decode("utf-8")
    header = json.loads(text)
    meta = header.pop("__metadata__", None)
    tensors = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == end, f"{name}: gap/overlap"
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        assert e - b == count * SIZES[info["dtype"]], f"{name}: size"
        buf = bytearray(data[8 + n + b:8 + n + e])
        tensors[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        end = e
    assert 8 + n + end == len(data), "data section not fully covered"
    return n, text, meta, header, tensors


def write_safetensors(path, tensors, metadata):
    """The reference writer's layout: dtype alignment descending, then name; header padded with spaces to 8."""
    names = sorted(tensors, key=lambda k: (-ENUM_ORDER.index(tensors[k][0]), k.encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name in names:
        dtype, t = tensors[name]
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- BertForMaskedLM with HF's module names (modeling_bert.py), built from torch.nn only -----------------------
class Embeddings(nn.Module):
    def __init__(self, c, **kw):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"], **kw)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"], **kw)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"], **kw)
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"], **kw)


def named(**children):
    m = nn.Module()
    for k, v in children.items():
        setattr(m, k, v)
    return m


def layer(c, **kw):
    H, I = c["hidden_size"], c["intermediate_size"]
    return named(
        attention=named(
            self=named(query=nn.Linear(H, H, **kw), key=nn.Linear(H, H, **kw), value=nn.Linear(H, H, **kw)),
            output=named(dense=nn.Linear(H, H, **kw), LayerNorm=nn.LayerNorm(H, eps=c["layer_norm_eps"], **kw)),
        ),
        intermediate=named(dense=nn.Linear(H, I, **kw)),
        output=named(dense=nn.Linear(I, H, **kw), LayerNorm=nn.LayerNorm(H, eps=c["layer_norm_eps"], **kw)),
    )


class LMPredictionHead(nn.Module):
    def __init__(self, c, **kw):
        super().__init__()
        H, V = c["hidden_size"], c["vocab_size"]
        self.transform = named(dense=nn.Linear(H, H, **kw), LayerNorm=nn.LayerNorm(H, eps=c["layer_norm_eps"], **kw))
        self.decoder = nn.Linear(H, V, bias=False, **kw)
        self.bias = nn.Parameter(torch.zeros(V, **kw))
        self.decoder.bias = self.bias


def bert_for_masked_lm(c, **kw):
    model = named(
        bert=named(embeddings=Embeddings(c, **kw),
                   encoder=named(layer=nn.ModuleList([layer(c, **kw) for _ in range(c["num_hidden_layers"])]))),
        cls=named(predictions=LMPredictionHead(c, **kw)),
    )
    model.cls.predictions.decoder.weight = model.bert.embeddings.word_embeddings.weight  # tie_weights()
    return model


TIED = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}


def check_folder(folder):
    report = {}
    with open(f"{folder}/config.json") as f:
        config = json.load(f)
    n, text, meta, header, tensors = read_safetensors(f"{folder}/model.safetensors")
    # Header layout as the reference writer makes it.
    assert n % 8 == 0 and text.rstrip(" ") + " " * (n - len(text.rstrip(" "))) == text
    assert text.startswith('{"__metadata__":{"format":"pt"},'), text[:40]
    order = [k for k, _ in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"])]
    assert order == sorted(order, key=lambda k: k.encode()), "tensors not laid out by name"
    assert json.loads(text) is not None and list(json.loads(text))[1:] == order, "header entries not in data order"
    report["header_layout"] = "ok"

    model = bert_for_masked_lm(config)
    expected = model.state_dict()
    result = model.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=False)
    missing = sorted(set(result.missing_keys) - TIED)
    assert not missing and not result.unexpected_keys, (missing, result.unexpected_keys)
    report["missing_keys"] = sorted(result.missing_keys)
    report["unexpected_keys"] = result.unexpected_keys
    for k, v in tensors.items():
        assert tuple(v.shape) == tuple(expected[k].shape), k
    # The names in the order torch's state_dict lists them (CompactLM's paramTable order).
    report["state_dict_order"] = [k for k in expected if k not in TIED]
    # Tying survived loading: the decoder reads the word embeddings and the MLM bias.
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    assert torch.equal(model.cls.predictions.decoder.weight, tensors["bert.embeddings.word_embeddings.weight"])
    emb = tensors["bert.embeddings.word_embeddings.weight"]
    q = tensors["bert.encoder.layer.0.attention.self.query.weight"]
    report["pad_row_zero"] = bool((emb[config["pad_token_id"]] == 0).all())
    report["init_query_std"] = float(q.std())
    report["init_embedding_std"] = float(emb[1:].std())
    report["params_tied_counted_once"] = sum(p.numel() for p in model.parameters())

    # bert-base parameter counts from torch itself (meta device: no memory).
    base = dict(config, vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                intermediate_size=3072, max_position_embeddings=512)
    mlm = bert_for_masked_lm(base, device="meta")
    report["base_BertForMaskedLM"] = sum(p.numel() for p in mlm.parameters())
    pooler = nn.Linear(768, 768, device="meta")
    report["base_BertModel_with_pooler"] = (sum(p.numel() for p in mlm.bert.parameters())
                                            + sum(p.numel() for p in pooler.parameters()))
    print(json.dumps(report))


def write_file(out, out_json):
    g = torch.Generator().manual_seed(0)
    src = {name: torch.randn(shape, generator=g) * 3 for name, shape in
           [("a.f32", (3, 5)), ("b.f16", (7,)), ("c.bf16", (2, 3, 4)), ("scalar.f32", ())]}
    src["b.f16"][:4] = torch.tensor([65504.0, 1e-7, -0.0, float("inf")])
    tensors = {
        "a.f32": ("F32", src["a.f32"]),
        "b.f16": ("F16", src["b.f16"].half()),
        "c.bf16": ("BF16", src["c.bf16"].bfloat16()),
        "scalar.f32": ("F32", src["scalar.f32"]),
        "ids": ("I64", torch.arange(6).reshape(2, 3)),
    }
    write_safetensors(out, tensors, {"format": "pt"})
    # torch's own conversion to float32 is the expected value; bit patterns avoid JSON float rounding.
    expected = {k: {"shape": list(t.shape), "f32_bits": t.float().reshape(-1).view(torch.int32).tolist()}
                for k, (dt, t) in tensors.items() if dt != "I64"}
    with open(out_json, "w") as f:
        json.dump(expected, f)
    # Our reader agrees with itself on what it wrote.
    _, _, meta, _, back = read_safetensors(out)
    assert meta == {"format": "pt"} and all(torch.equal(back[k], t) for k, (_, t) in tensors.items())
    print(json.dumps({"wrote": out, "tensors": sorted(tensors)}))


def rewrite(src, out):
    """Re-serializes a file with this writer, so the caller can compare bytes with CompactLM's writer."""
    _, _, meta, header, tensors = read_safetensors(src)
    write_safetensors(out, {k: (header[k]["dtype"], t) for k, t in tensors.items()}, meta)
    print(json.dumps({"rewrote": src, "tensors": len(tensors)}))


if __name__ == "__main__":
    if sys.argv[1] == "check-folder":
        check_folder(sys.argv[2])
    elif sys.argv[1] == "write-file":
        write_file(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "rewrite":
        rewrite(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
