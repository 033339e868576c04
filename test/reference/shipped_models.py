"""Loads each shipped model (float16 safetensors) with Hugging Face transformers (the class its config names) and
writes float32 logits.

Usage: python shipped_models.py <job.json> <result.json>
job: {"models": [{"dir": ..., "input_ids": [[...]], "logits": "<out .f32>"}]}
result: per model the dtype `from_pretrained` picks by default, loading info, and the float32 logits file.
"""
import json
import sys

import torch
import transformers
from transformers import AutoConfig, AutoTokenizer


def main():
    job = json.load(open(sys.argv[1]))
    out = []
    for m in job["models"]:
        # The class its config.json names: BertForMaskedLM, or BertForSequenceClassification for a classifier.
        cls = getattr(transformers, AutoConfig.from_pretrained(m["dir"]).architectures[0])
        default = cls.from_pretrained(m["dir"])
        model, info = cls.from_pretrained(m["dir"], dtype=torch.float32, output_loading_info=True)
        model.eval()
        ids = torch.tensor(m["input_ids"])
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids)).logits
        logits.numpy().astype("float32").tofile(m["logits"])
        tok = AutoTokenizer.from_pretrained(m["dir"])
        out.append({
            "dir": m["dir"],
            "default_dtype": str(default.dtype),
            "loading_info": {k: sorted(v) if isinstance(v, (list, set)) else str(v) for k, v in info.items()},
            "hf_ids": tok(m["text"])["input_ids"],
        })
    json.dump({"models": out}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
