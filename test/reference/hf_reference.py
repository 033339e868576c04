#!/usr/bin/env python3
"""The Hugging Face side of the reference suite (hf-stack.test.ts), in one process (importing torch and
transformers costs seconds): reads a job JSON, writes a result JSON. Offline; nothing is downloaded.

Job keys (each optional, all paths absolute):
  model        CompactLM model folder → BertForMaskedLM.from_pretrained(output_loading_info=True): loading info,
               parameter count, tied decoder; with `batch`, logits [B, T, V] as raw float32 into `logits_out`; with
               `fill_mask_texts`, the tokenizer's ids and log-softmax over the vocabulary at every [MASK];
               with `texts`, AutoTokenizer ids (truncation=True, max_length=`max_length`);
               with `rewrite_safetensors`, model.safetensors re-serialized by safetensors.torch.save_file there.
  export       CompactLM export folder → onnx.checker.check_model(full_check=True) on every onnx/*.onnx, the fp32
               graph's inputs/outputs, and with `export_batch` python onnxruntime's fp32 logits vs the torch
               model's (of `model`) on that batch.
  write_safetensors  path: torch tensors in F32/F16/BF16 written by safetensors.torch.save_file, with torch's own
               float32 conversion of each (as bit patterns) in the result, for CompactLM's reader.
  grad_fixture path: make_grad_fixture.py's output written there afresh (to compare with the frozen fixture).

Usage: python hf_reference.py JOB.json RESULT.json
"""
import base64
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer, BertForMaskedLM  # noqa: E402

torch.set_num_threads(1)


def batch_tensors(batch):
    return {k: torch.tensor(batch[k], dtype=torch.long) for k in ("input_ids", "attention_mask", "token_type_ids")}


def torch_logits(model, batch):
    with torch.no_grad():
        return model(**batch_tensors(batch)).logits.numpy()


def check_model_folder(job, res):
    model, info = BertForMaskedLM.from_pretrained(job["model"], output_loading_info=True)
    model.eval()
    res["loading_info"] = {k: sorted(v) if isinstance(v, (set, list)) else v for k, v in info.items()}
    res["num_parameters"] = model.num_parameters()
    res["tied_decoder"] = model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    res["model_dtype"] = str(model.dtype)
    res["attn_implementation"] = model.config._attn_implementation
    if "batch" in job:
        logits = torch_logits(model, job["batch"])
        res["logits_shape"] = list(logits.shape)
        np.ascontiguousarray(logits, dtype="<f4").tofile(job["logits_out"])
    tok = AutoTokenizer.from_pretrained(job["model"])
    res["tokenizer_class"] = type(tok).__name__
    res["tokenizer_is_fast"] = bool(getattr(tok, "is_fast", False))
    if "fill_mask_texts" in job:
        out = []
        for text in job["fill_mask_texts"]:
            enc = tok(text, truncation=True, max_length=job.get("max_length", 512), return_tensors="pt")
            with torch.no_grad():
                logp = torch.log_softmax(model(**enc).logits[0].double(), dim=-1)
            ids = enc["input_ids"][0].tolist()
            positions = [i for i, t in enumerate(ids) if t == tok.mask_token_id]
            out.append({"ids": ids, "positions": positions,
                        "log_probs": [base64.b64encode(logp[p].numpy().astype("<f8").tobytes()).decode("ascii")
                                      for p in positions],
                        "tokens": tok.convert_ids_to_tokens(ids)})
        res["fill_mask"] = out
    if "texts" in job:
        res["token_ids"] = [tok(t, truncation=True, max_length=job.get("max_length", 512))["input_ids"]
                            for t in job["texts"]]
    if "rewrite_safetensors" in job:
        from safetensors import safe_open
        from safetensors.torch import save_file
        with safe_open(os.path.join(job["model"], "model.safetensors"), "pt") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        save_file(tensors, job["rewrite_safetensors"], metadata=meta)
        res["safetensors_metadata"] = meta
    return model


def check_export(job, res, model):
    import onnx
    import onnxruntime as ort

    folder = os.path.join(job["export"], "onnx")
    res["onnx_checker"] = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".onnx"):
            path = os.path.join(folder, name)
            onnx.checker.check_model(path, full_check=True)  # raises on any problem
            m = onnx.load(path)
            res["onnx_checker"][name] = {"ok": True, "ir_version": m.ir_version,
                                         "opsets": {o.domain or "ai.onnx": o.version for o in m.opset_import}}
    fp32 = os.path.join(folder, "model.onnx")

    def io(values):
        return [{"name": v.name, "elem_type": onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type),
                 "dims": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]} for v in values]

    m = onnx.load(fp32)
    res["onnx_io"] = {"inputs": io(m.graph.input), "outputs": io(m.graph.output)}
    if "export_batch" in job:
        sess = ort.InferenceSession(fp32, providers=["CPUExecutionProvider"])
        feeds = {k: np.asarray(job["export_batch"][k], dtype=np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
        ort_logits = sess.run(["logits"], feeds)[0]
        ref = torch_logits(model, job["export_batch"])
        res["export_logits"] = {"shape": list(ort_logits.shape), "torch_shape": list(ref.shape),
                                "max_abs_diff": float(np.abs(ort_logits - ref).max()),
                                "max_abs_logit": float(np.abs(ref).max()), "onnxruntime": ort.__version__}


def write_safetensors(path, res):
    from safetensors.torch import save_file
    g = torch.Generator().manual_seed(0)
    src = {name: torch.randn(shape, generator=g) * 3 for name, shape in
           [("a.f32", (3, 5)), ("b.f16", (7,)), ("c.bf16", (2, 3, 4)), ("scalar.f32", ())]}
    src["b.f16"][:4] = torch.tensor([65504.0, 1e-7, -0.0, float("inf")])
    tensors = {"a.f32": src["a.f32"], "b.f16": src["b.f16"].half(), "c.bf16": src["c.bf16"].bfloat16(),
               "scalar.f32": src["scalar.f32"], "ids": torch.arange(6).reshape(2, 3)}
    save_file(tensors, path, metadata={"format": "pt"})
    # torch's own conversion to float32 is the expected value; bit patterns avoid JSON float rounding.
    res["safetensors_written"] = {k: {"dtype": str(t.dtype), "shape": list(t.shape),
                                      "f32_bits": t.float().reshape(-1).view(torch.int32).tolist()}
                                  for k, t in tensors.items() if t.is_floating_point()}


def main():
    job_path, result_path = sys.argv[1:3]
    with open(job_path) as f:
        job = json.load(f)
    res = {"torch": torch.__version__, "transformers": transformers.__version__}
    model = check_model_folder(job, res) if "model" in job else None
    if "export" in job:
        check_export(job, res, model)
    if "write_safetensors" in job:
        write_safetensors(job["write_safetensors"], res)
    if "grad_fixture" in job:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import make_grad_fixture
        make_grad_fixture.main(job["grad_fixture"])
    with open(result_path, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
