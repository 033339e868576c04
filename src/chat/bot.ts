/**
 * The customer-service chatbot, as `compactlm chat` and the server use it: it answers only from what it was given
 * (an FAQ, or an intent classifier with its responses) and falls back when unsure.
 *
 *   const bot = await loadChatBot({ model: 'models/compactlm-mini', faq: 'datasets/shop-faq.csv' });
 *   const a = await bot.reply('I want to send a lamp back');
 *   const b = await bot.reply('and how long until I get my money?', ['I want to send a lamp back']);
 *   // { answer, source: { row, question, intent? } | { intent }, score, fallback, alternatives: [...] }
 *   await bot.close();
 *
 * - FAQ mode (`faq`): faq-bot.ts; `score` is the cosine similarity of the message to the FAQ question answered.
 * - Intent mode (`responses`): intent-bot.ts; `score` is the classifier's probability of the intent.
 * - Fallback: the best topic scores below `threshold`, or is the out-of-scope label. The answer is then
 *   `fallback` (a hand-off line) or "I'm not sure — here are the closest topics: …" naming the closest FAQ
 *   questions (intents). `source` and `score` still describe the best match, so a caller can see how close it was.
 * - `alternatives`: the next `alternatives` topics after the best (each FAQ intent or answer once; no
 *   out-of-scope label), best first.
 * - Context: `history` is the conversation so far, oldest first: the user's earlier messages as strings, or turns
 *   `{ role: 'user' | 'bot', text }` as the server receives them (the bot's own turns are not read). A message
 *   that can be answered on its own (in scope, score ≥ threshold) is answered on its own. Only when it cannot is
 *   it read again with the previous user message appended ("and how long does that take? Do you ship to
 *   Norway?"), and that reading is answered when it can be and lands on the previous message's own topic: a
 *   follow-up continues the topic, and a clear new question is never pulled towards it. (Letting any answerable
 *   context reading win instead made the bot answer out-of-scope messages with the previous topic: README,
 *   "chat", has the measurements.) The joined text is cut at the model's 512 tokens like any text, from the
 *   end: what is dropped is the older turn, never the message.
 */
import type { SessionConfig } from '../runtime/session.js';
import { UserError } from '../util/errors.js';
import { FaqBot } from './faq-bot.js';
import { DEFAULT_OOS_LABEL, IntentBot } from './intent-bot.js';

/** Where an answer came from: an FAQ row (data row number, 1-based) or an intent. */
export type ChatSource = { row: number; question: string; intent?: string } | { intent: string };

export interface ChatAlternative {
  answer: string;
  score: number;
  row?: number;
  question?: string;
  intent?: string;
}

/** What `reply` returns and `compactlm chat --json` prints. */
export interface ChatAnswer {
  answer: string;
  source: ChatSource;
  score: number;
  fallback: boolean;
  alternatives: ChatAlternative[];
}

/** One candidate answer of a ranking (what FaqBot and IntentBot return, best first). */
export interface Topic {
  answer: string;
  score: number;
  /** How the fallback line names it: the FAQ question, or the intent. */
  label: string;
  /** What makes two answers the same topic: the intent, or (an FAQ without intents) the answer. */
  topic: string;
  intent?: string;
  /** The out-of-scope label of an intent classifier. */
  outOfScope: boolean;
  source: ChatSource;
  alternative: ChatAlternative;
}

export interface Ranker {
  readonly mode: 'faq' | 'intent';
  rank(texts: readonly string[]): Promise<Topic[][]>;
  close(): Promise<void>;
}

/**
 * Default thresholds, chosen for the default model on the bundled paraphrase set (FAQ) and on CLINC150's
 * validation split (intent): README, "chat". Cosine similarities of another encoder sit elsewhere: measure with
 * `compactlm eval --task intent`.
 */
export const DEFAULT_FAQ_THRESHOLD = 0.69;
export const DEFAULT_INTENT_THRESHOLD = 0.4;
export const DEFAULT_ALTERNATIVES = 3;
/** Topics the fallback line names. */
export const FALLBACK_TOPICS = 3;

export interface ChatBotOptions extends SessionConfig {
  /** Encoder folder (FAQ mode) or intent classifier folder (intent mode); model or export folder. */
  model: string;
  faq?: string;
  responses?: string;
  threshold?: number;
  fallback?: string;
  oosLabel?: string;
  int8?: boolean;
  alternatives?: number;
  /** FAQ mode: use the vector cache beside the FAQ file (default true). */
  cache?: boolean;
}

/** An earlier turn: a user message, or a role-tagged turn (only `user` turns are read). */
export type ChatTurn = string | { role: 'user' | 'bot'; text: string };

export interface ReplySettings {
  threshold: number;
  fallback?: string;
  alternatives: number;
}

export interface ChatBot {
  readonly mode: 'faq' | 'intent';
  readonly threshold: number;
  reply(message: string, history?: readonly ChatTurn[]): Promise<ChatAnswer>;
  close(): Promise<void>;
}

export async function loadChatBot(o: ChatBotOptions): Promise<ChatBot> {
  if ((o.faq === undefined) === (o.responses === undefined)) throw new UserError('give either an FAQ (faq) or an intent classifier\'s responses (responses), not both or neither');
  const session = { int8: o.int8, device: o.device, threads: o.threads };
  const ranker: Ranker = o.faq !== undefined
    ? await FaqBot.load(o.model, o.faq, { ...session, cache: o.cache })
    : await IntentBot.load(o.model, o.responses!, { ...session, oosLabel: o.oosLabel ?? DEFAULT_OOS_LABEL });
  const settings: ReplySettings = {
    threshold: o.threshold ?? (ranker.mode === 'faq' ? DEFAULT_FAQ_THRESHOLD : DEFAULT_INTENT_THRESHOLD),
    ...(o.fallback !== undefined ? { fallback: o.fallback } : {}),
    alternatives: o.alternatives ?? DEFAULT_ALTERNATIVES,
  };
  return new Bot(ranker, settings);
}

class Bot implements ChatBot {
  constructor(private readonly ranker: Ranker, private readonly settings: ReplySettings) {}

  get mode() {
    return this.ranker.mode;
  }

  get threshold() {
    return this.settings.threshold;
  }

  async reply(message: string, history: readonly ChatTurn[] = []): Promise<ChatAnswer> {
    if (message.trim() === '') throw new UserError('empty message: there is nothing to answer');
    const { threshold } = this.settings;
    const [alone] = await this.ranker.rank([message]);
    const previous = userMessages(history).filter((h) => h.trim() !== '').at(-1);
    if (answerable(alone, threshold) || previous === undefined) return answerOf(alone, this.settings);
    // the context readings cost a second run, made only when the message alone cannot be answered
    const [joined, before] = await this.ranker.rank([`${message} ${previous}`, previous]);
    return answerOf(followUp(alone, joined, before, threshold), this.settings);
  }

  close(): Promise<void> {
    return this.ranker.close();
  }
}

/** The user's messages of a history (strings, and the text of `user` turns). */
export function userMessages(history: readonly ChatTurn[]): string[] {
  return history.flatMap((t) => (typeof t === 'string' ? [t] : t.role === 'user' ? [t.text] : []));
}

/** Whether a ranking's best topic can be answered (in scope, score ≥ threshold). */
function answerable(topics: readonly Topic[], threshold: number): boolean {
  return !topics[0].outOfScope && topics[0].score >= threshold;
}

/**
 * The ranking to answer a message that cannot be answered alone: its reading with the previous message appended
 * (`joined`) when that can be answered and its topic is the previous message's own (`before`); else the message
 * alone (its fallback).
 */
export function followUp(alone: Topic[], joined: Topic[], before: readonly Topic[], threshold: number): Topic[] {
  return answerable(joined, threshold) && joined[0].topic === before[0].topic ? joined : alone;
}

/** The fallback line when none is given: the closest topics, each quoted. */
export function closestTopicsLine(labels: readonly string[]): string {
  return `I'm not sure — here are the closest topics: ${labels.map((l) => JSON.stringify(l)).join(', ')}`;
}

/** The answer to a ranking (best first): the best topic's answer, or the fallback. */
export function answerOf(topics: readonly Topic[], s: ReplySettings): ChatAnswer {
  const best = topics[0];
  const inScope = topics.filter((t) => !t.outOfScope);
  const fallback = best.outOfScope || best.score < s.threshold;
  const answer = !fallback ? best.answer : s.fallback ?? closestTopicsLine(inScope.slice(0, FALLBACK_TOPICS).map((t) => t.label));
  return {
    answer,
    source: best.source,
    score: best.score,
    fallback,
    alternatives: inScope.filter((t) => t !== best).slice(0, s.alternatives).map((t) => t.alternative),
  };
}
