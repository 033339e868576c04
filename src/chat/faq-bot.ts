/**
 * FAQ mode of `compactlm chat`: any encoder folder (a masked LM such as models/compactlm-mini, a classifier, or an
 * export folder) and an FAQ CSV. Messages are encoded with the same mean pooling as the FAQ's questions (faq.ts),
 * whose vectors come from the cache beside the FAQ file (faq-cache.ts); each message's topics are ranked by cosine
 * similarity to the questions.
 *
 *   const bot = await FaqBot.load('models/compactlm-mini', 'datasets/shop-faq.csv');
 *   const [topics] = await bot.rank(['where is my parcel?']);   // Topic[], best first
 */
import { Embedder } from '../infer/embed.js';
import type { SessionConfig } from '../runtime/session.js';
import type { Topic } from './bot.js';
import { loadFaqIndex, modelFingerprint } from './faq-cache.js';
import { embedAll, readFaq, topicOf, type FaqIndex, type FaqMatch } from './faq.js';

export interface FaqBotOptions extends SessionConfig {
  int8?: boolean;
  /** Read and write the vector cache beside the FAQ file (default true). */
  cache?: boolean;
}

export class FaqBot {
  readonly mode = 'faq';

  private constructor(private readonly embedder: Embedder, readonly index: FaqIndex) {}

  get tokenizer() {
    return this.embedder.tokenizer;
  }

  static async load(model: string, faqFile: string, o: FaqBotOptions = {}): Promise<FaqBot> {
    const faq = await readFaq(faqFile); // a bad FAQ fails before the model is loaded
    const embedder = await Embedder.load(model, { int8: o.int8, device: o.device, threads: o.threads });
    try {
      const index = await loadFaqIndex(faq, embedder, await modelFingerprint(model, !!o.int8), { cache: o.cache });
      return new FaqBot(embedder, index);
    } catch (e) {
      await embedder.close();
      throw e;
    }
  }

  /** Topics of each text, best first (every topic of the FAQ, each once). */
  async rank(texts: readonly string[]): Promise<Topic[][]> {
    const queries = await embedAll(this.embedder, texts);
    return queries.map((q) => this.index.rank(q).map(faqTopic));
  }

  close(): Promise<void> {
    return this.embedder.close();
  }
}

function faqTopic(m: FaqMatch): Topic {
  const intent = m.intent !== undefined ? { intent: m.intent } : {};
  return {
    answer: m.answer,
    score: m.score,
    label: m.question,
    topic: topicOf(m),
    outOfScope: false,
    ...intent,
    source: { row: m.row, question: m.question, ...intent },
    alternative: { row: m.row, question: m.question, answer: m.answer, ...intent, score: m.score },
  };
}
