import { lcsLength, lcsPositions, rougeLsum, rougeScores, rougeTokens, summaryLines } from '../../../src/summarize/rouge.js';

/**
 * rouge_score's definitions (google-research/rouge: rouge_scorer.py, tokenize.py). rouge-score is not installable
 * here, so the checks are its own test cases (rouge_scorer_test.py, whose "AgainstRouge155" values come from
 * manual runs of the official ROUGE-1.5.5 on the synthetic strings of its testdata/), the example of Lin (2004,
 * §3.2) and cases worked by hand from the definitions.
 */

// rouge/testdata/target.txt and prediction.txt, lines 1 and 2 (random strings; readlines keeps the "\n")
const TARGETS = [
  "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
  "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
];
const PREDICTIONS = [
  "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
  "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
];
// rouge/testdata/pyrouge_files/target_multi.0.txt and prediction_multi.0.txt (one sentence per line)
const TARGET_MULTI = `${TARGETS[0]}${TARGETS[1]}NhETebUbBk'er WOvoHMTjSRizKgH'vHiing Xu,hWxfs VkNE QhgKiLHE -HidivzoM.dO anhtion jbLQiSGDTCsuhREebUaKM dv J dVN tmbOT
vMR HDm,xOAetion D,tion HJtodT.mHl UIv-p VjWH'BdyWjnfGU-OjT aEMdFICyLWfQMtion wEMfdOKing AwkeKbO 'DxqNOHBH qKtVvm OYJl mM
`;
const PREDICTION_MULTI = `${PREDICTIONS[0]}${PREDICTIONS[1]}xfs VkJE QhgKiLHE -HidivzoM.dO anhing jbLQiSGDTCsuhREebUaKM dv J
VjWH'BdyWjnfGU-OjTNaEMdFICyLWfQMing wEMfdOKijg AwkeKbO 'DxqNO
`;

const close = (got: { precision: number; recall: number; f1: number }, p: number, r: number, f: number, digits = 5) => {
  expect(got.precision).toBeCloseTo(p, digits);
  expect(got.recall).toBeCloseTo(r, digits);
  expect(got.f1).toBeCloseTo(f, digits);
};

describe('rougeTokens (rouge_score tokenize.py)', () => {
  test('lower-case, runs outside [a-z0-9] become spaces, stem only tokens longer than 3 characters', () => {
    expect(rougeTokens("The U.S. president's 2nd visit — café 3.5%")).toEqual(['the', 'u', 's', 'president', 's', '2nd', 'visit', 'caf', '3', '5']);
    expect(rougeTokens('Cats were running; dogs ran', { stem: true })).toEqual(['cat', 'were', 'run', 'dog', 'ran']);
    expect(rougeTokens('ties ties', { stem: true })).toEqual(['tie', 'tie']);
    expect(rougeTokens('its was', { stem: true })).toEqual(['its', 'was']); // 3 letters: not stemmed ("was" would be "wa")
    expect(rougeTokens('  --  ')).toEqual([]);
  });
});

describe('ROUGE-N, ROUGE-L (rouge_scorer_test.py)', () => {
  test('testRouge1, testRouge2, testRougeL*', () => {
    close(rougeScores('testing one two', 'testing').rouge1, 1, 1 / 3, 1 / 2);
    close(rougeScores('testing one two', 'testing one').rouge2, 1, 1 / 2, 2 / 3);
    close(rougeScores('testing one two', 'testing one').rougeL, 1, 2 / 3, 4 / 5);
    close(rougeScores('testing one two', 'testing two').rougeL, 1, 2 / 3, 4 / 5);
    close(rougeScores('testing one two', 'testing one').rouge1, 1, 2 / 3, 4 / 5);
  });

  test('an empty candidate scores 0 everywhere', () => {
    const s = rougeScores('testing one two', '');
    for (const t of ['rouge1', 'rouge2', 'rougeL', 'rougeLsum'] as const) close(s[t], 0, 0, 0);
  });

  test('against ROUGE-1.5.5, without and with stemming', () => {
    const plain = TARGETS.map((t, i) => rougeScores(t, PREDICTIONS[i]));
    close(plain[0].rouge1, 0.6875, 0.40741, 0.51163);
    close(plain[1].rouge1, 0.65385, 0.40476, 0.5);
    close(plain[0].rouge2, 0.53333, 0.30769, 0.39024);
    close(plain[1].rouge2, 0.48, 0.29268, 0.36364);
    close(plain[0].rougeL, 0.6875, 0.40741, 0.51163);
    close(plain[1].rougeL, 0.65385, 0.40476, 0.5);
    const stemmed = TARGETS.map((t, i) => rougeScores(t, PREDICTIONS[i], { stem: true }));
    close(stemmed[0].rouge1, 0.6875, 0.40741, 0.51163);
    close(stemmed[1].rouge1, 0.69231, 0.42857, 0.52941);
    close(stemmed[1].rouge2, 0.48, 0.29268, 0.36364);
  });

  test('clipped counts: a repeated word matches only as often as the reference has it', () => {
    // reference: the ×2, cat, sat; candidate: the ×3, cat → overlap min(2,3) + 1 = 3; P = 3/4, R = 3/4
    close(rougeScores('the cat sat the', 'the the the cat').rouge1, 3 / 4, 3 / 4, 3 / 4);
    // bigrams: reference {the cat, cat sat, sat the}, candidate {the the ×2, the cat} → 1 match; P = 1/3, R = 1/3
    close(rougeScores('the cat sat the', 'the the the cat').rouge2, 1 / 3, 1 / 3, 1 / 3);
  });

  test('stemming makes inflections match (hand-worked)', () => {
    // stemmed: [the, cat, were, run] vs [a, cat, run]: 2 matches; P = 2/3, R = 2/4, F = 4/7
    close(rougeScores('The cats were running', 'A cat runs', { stem: true }).rouge1, 2 / 3, 1 / 2, 4 / 7);
    close(rougeScores('The cats were running', 'A cat runs').rouge1, 0, 0, 0);
  });
});

describe('LCS and ROUGE-Lsum', () => {
  test('testLcsTable: length and the backtracked positions', () => {
    const ref = ['1', '2', '3', '4', '5'];
    expect(lcsLength(ref, ['2', '5', '3', '4'])).toBe(3);
    expect(lcsPositions(ref, ['2', '5', '3', '4'])).toEqual([1, 2, 3]);
    expect(lcsPositions(ref, ['8', '9'])).toEqual([]);
    expect(lcsLength(['a', 'b', 'c', 'b', 'd', 'a', 'b'], ['b', 'd', 'c', 'a', 'b', 'a'])).toBe(4); // CLRS 15.4: BCBA
  });

  test('Lin (2004) §3.2: union LCS w1 w2 w3 w5 → R = 4/5, P = 4/10 (testSummaryLevelLcs, testRougeLsum)', () => {
    close(rougeLsum([['1', '2', '3', '4', '5']], [['1', '2', '6', '7', '8'], ['1', '3', '8', '9', '5']]), 0.4, 0.8, 0.53333, 4);
    close(rougeScores('w1 w2 w3 w4 w5', 'w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5').rougeLsum, 0.4, 0.8, 0.53333, 4);
    // plain ROUGE-L of the same texts sees one sequence: LCS(w1 w2 w3 w4 w5, w1 w2 w6 w7 w8 w1 w3 w8 w9 w5) = w1 w2 w3 w5
    close(rougeScores('w1 w2 w3 w4 w5', 'w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5').rougeL, 0.4, 0.8, 0.53333, 4);
  });

  test('each token counts once however many reference sentences share it (hand-worked)', () => {
    // refs "a b" and "a c", candidate "a b c": r1 ∪LCS = a b → 2 hits (candidate's a used); r2 ∪LCS = a c → only c hits
    close(rougeLsum([['a', 'b'], ['a', 'c']], [['a', 'b', 'c']]), 1, 3 / 4, 6 / 7);
    // the same tokens on one line: LCS(a b a c, a b c) = a b c
    close(rougeScores('a b a c', 'a b c').rougeL, 1, 3 / 4, 6 / 7);
  });

  test('empty cases (testRougeLsum, testSummaryLevelLcs)', () => {
    close(rougeScores('w1 w2 w3 w4 w5', '').rougeLsum, 0, 0, 0);
    close(rougeScores('', 'w1').rougeLsum, 0, 0, 0);
    close(rougeScores('w1 w2 w3 w4 w5', '/').rougeLsum, 0, 0, 0);
    close(rougeLsum([['reference']], [[]]), 0, 0, 0);
  });

  test('against ROUGE-1.5.5: rougeLsum with stemming on the multi-sentence files', () => {
    close(rougeScores(TARGET_MULTI, PREDICTION_MULTI, { stem: true }).rougeLsum, 0.66667, 0.36538, 0.47205);
  });

  test('summary lines: split at \\n, empty lines dropped', () => {
    expect(summaryLines('a\n\nb\n')).toEqual(['a', 'b']);
  });
});
