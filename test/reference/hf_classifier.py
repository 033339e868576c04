#!/usr/bin/env python3
"""The Hugging Face side of hf-classifier.test.ts, in one process: a CompactLM classifier folder (`finetune`) and
its export folder in PyTorch transformers and python onnxruntime. Offline; nothing is downloaded.

Job keys (paths absolute):
  model     classifier folder → BertForSequenceClassification.from_pretrained(output_loading_info=True): loading
            info, parameter count, the config as transformers reads it; AutoTokenizer ids of `texts` and `pairs`;
            eval-mode logits of each text and each pair, one at a time (no padding), and of each pair again with
            token_type_ids all 0 (to tell a token-type bug from others); pipeline('text-classification',
            top_k=None) on `texts`.
  export    export folder → onnx/model.onnx's inputs and outputs; python onnxruntime logits of texts + pairs as one
            right-padded batch (tokenizer.pad, token types included) vs torch's; onnx/model_quantized.onnx
            logits of each text alone (int8 activation scales are per run, so one text per run, as CompactLM does).
  texts, pairs ([a, b] lists)

Usage: python hf_classifier.py JOB.json RESULT.json
"""
import json
import os
import sys

# hf_reference.py's module setup: offline Hugging Face environment, torch on one thread.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import np, torch, transformers  # noqa: E402
from transformers import AutoTokenizer, BertForSequenceClassification, pipeline  # noqa: E402


def logits_of(model, enc):
    with torch.no_grad():
        return model(**enc).logits[0].tolist()


def check_model(job, res):
    model, info = BertForSequenceClassification.from_pretrained(job["model"], output_loading_info=True)
    model.eval()
    res["loading_info"] = {k: sorted(v) if isinstance(v, (set, list)) else v for k, v in info.items()}
    res["num_parameters"] = model.num_parameters()
    res["model_dtype"] = str(model.dtype)
    c = model.config
    res["config"] = {"num_labels": c.num_labels, "id2label": {str(k): v for k, v in c.id2label.items()},
                     "label2id": dict(c.label2id), "problem_type": c.problem_type, "architectures": c.architectures}
    tok = AutoTokenizer.from_pretrained(job["model"])
    res["tokenizer"] = {"class": type(tok).__name__, "is_fast": bool(getattr(tok, "is_fast", False))}
    enc = [tok(t, truncation=True, max_length=512, return_tensors="pt") for t in job["texts"]]
    pair_enc = [tok(a, b, truncation=True, max_length=512, return_tensors="pt") for a, b in job["pairs"]]
    res["text_ids"] = [e["input_ids"][0].tolist() for e in enc]
    res["pair_ids"] = [e["input_ids"][0].tolist() for e in pair_enc]
    res["pair_type_ids"] = [e["token_type_ids"][0].tolist() for e in pair_enc]
    res["text_logits"] = [logits_of(model, e) for e in enc]
    res["pair_logits"] = [logits_of(model, e) for e in pair_enc]
    res["pair_logits_types_0"] = [logits_of(model, {**e, "token_type_ids": torch.zeros_like(e["token_type_ids"])}) for e in pair_enc]
    clf = pipeline("text-classification", model=model, tokenizer=tok, device="cpu")
    res["pipeline"] = clf(job["texts"], top_k=None)
    return model, tok


def check_export(job, res, model, tok):
    import onnx
    import onnxruntime as ort

    folder = os.path.join(job["export"], "onnx")
    m = onnx.load(os.path.join(folder, "model.onnx"))

    def io(values):
        return [{"name": v.name, "elem_type": onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type),
                 "dims": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]} for v in values]

    res["onnx_io"] = {"inputs": io(m.graph.input), "outputs": io(m.graph.output)}
    res["onnxruntime"] = ort.__version__
    texts = job["texts"]
    # texts then pairs in one right-padded batch ([PAD], attention_mask 0, token type 0 on padding)
    rows = [tok(t, truncation=True, max_length=512) for t in texts] + [tok(a, b, truncation=True, max_length=512) for a, b in job["pairs"]]
    batch = dict(tok.pad(rows, padding=True))
    sess = ort.InferenceSession(os.path.join(folder, "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {k: np.asarray(v, dtype=np.int64) for k, v in batch.items()}
    ort_logits = sess.run(["logits"], feeds)[0]
    with torch.no_grad():
        ref = model(**{k: torch.tensor(v) for k, v in batch.items()}).logits.numpy()
    res["export_fp32"] = {"shape": list(ort_logits.shape), "logits": ort_logits.tolist(),
                          "max_abs_diff_vs_torch": float(np.abs(ort_logits - ref).max())}
    q = ort.InferenceSession(os.path.join(folder, "model_quantized.onnx"), providers=["CPUExecutionProvider"])
    one = lambda t: {k: np.asarray([v], dtype=np.int64) for k, v in tok(t, truncation=True, max_length=512).items()}  # noqa: E731
    res["export_int8_text_logits"] = [q.run(["logits"], one(t))[0][0].tolist() for t in texts]

def main():
    job_path, result_path = sys.argv[1:3]
    with open(job_path) as f:
        job = json.load(f)
    res = {"torch": torch.__version__, "transformers": transformers.__version__}
    model, tok = check_model(job, res)
    check_export(job, res, model, tok)
    with open(result_path, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
