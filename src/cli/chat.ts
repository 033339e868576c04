import type { Command } from 'commander';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { DEFAULT_ALTERNATIVES, DEFAULT_FAQ_THRESHOLD, DEFAULT_INTENT_THRESHOLD, loadChatBot, type ChatAnswer, type ChatBot, type ChatTurn } from '../chat/bot.js';
import { cachePath } from '../chat/faq-cache.js';
import { DEFAULT_OOS_LABEL } from '../chat/intent-bot.js';
import { STDIN_NAME } from '../infer/input-texts.js';
import { DEFAULT_MODEL_NAME } from '../model/default-model.js';
import { DEVICES, type Device } from '../runtime/session.js';
import { atLine, UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { modelDir } from './infer.js';
import { choice, example, float, frozen, given, int, nonEmpty, refuseOverwritingInputs, usageError } from './options.js';

interface ChatFlags {
  model?: string;
  faq?: string;
  responses?: string;
  threshold?: number;
  fallback?: string;
  oosLabel: string;
  topK: number;
  json: boolean;
  cache: boolean;
  int8: boolean;
  device: Device;
  threads?: number;
}

export interface ChatSettings {
  model: string;
  faq?: string;
  responses?: string;
  threshold?: number;
  fallback?: string;
  oosLabel: string;
  alternatives: number;
  json: boolean;
  cache: boolean;
  message?: string;
  session: { device: Device; threads?: number; int8: boolean };
}

/** The checked, frozen settings `chat` runs with. */
export function chatSettings(message: string | undefined, o: ChatFlags, command: Command): Readonly<ChatSettings> {
  if ((o.faq === undefined) === (o.responses === undefined)) {
    throw usageError('give --faq <faq.csv> (answers from an FAQ) or --responses <responses.csv> (an intent classifier\'s answers), one of the two');
  }
  if (o.faq !== undefined && given(command, 'oosLabel')) throw usageError('--oos-label goes with --responses (an intent classifier), not --faq');
  if (o.responses !== undefined && !o.cache) throw usageError('--no-cache goes with --faq (the FAQ vector cache), not --responses');
  if (o.responses !== undefined && o.threshold !== undefined && o.threshold < 0) throw usageError(`--threshold ${o.threshold}: with --responses it is a probability in [0, 1]`);
  if (message !== undefined && message.trim() === '') throw new UserError('empty message: give a question, e.g. compactlm chat --faq faq.csv "where is my order?"');
  const model = modelDir(o.model);
  if (o.faq !== undefined && o.cache) refuseOverwritingInputs([{ what: 'the FAQ vector cache', path: cachePath(o.faq) }], [{ what: '--model', path: model }, { what: '--faq', path: o.faq }]);
  return frozen({
    model,
    ...(o.faq !== undefined ? { faq: o.faq } : {}),
    ...(o.responses !== undefined ? { responses: o.responses } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.fallback !== undefined ? { fallback: o.fallback } : {}),
    oosLabel: o.oosLabel,
    alternatives: o.topK,
    json: o.json,
    cache: o.cache,
    ...(message !== undefined ? { message } : {}),
    session: frozen({ device: o.device, int8: o.int8, ...(o.threads !== undefined ? { threads: o.threads } : {}) }),
  });
}

/**
 * `compactlm chat`: a customer-service assistant that answers only from an FAQ (--faq) or from an intent
 * classifier's responses (--responses) (library: src/chat/bot.ts). One message as an argument; without one, an
 * interactive conversation on a terminal, or JSONL from piped stdin: each line {"message": ..., "history"?: [...]},
 * a JSON string or plain text → one ChatAnswer JSON line each, in order, once every line has been read and checked
 * ("history": the user's earlier messages as strings, or {"role": "user" | "bot", "text"} turns).
 * ChatAnswer: {answer, source: {row, question, intent?} | {intent}, score, fallback, alternatives: [...]}.
 */
export function registerChat(program: Command): void {
  const cmd = program
    .command('chat')
    .description('A customer-service chatbot that answers only from what it was given: the closest question of an FAQ ' +
      '(--faq, by encoder similarity) or the intent a fine-tuned classifier picks (--responses); below --threshold it ' +
      'falls back. One message, an interactive conversation on a terminal, or JSONL from stdin.')
    .argument('[message]', 'one message to answer; without it: a conversation (terminal) or JSONL from stdin')
    .option('--model <dir>', `--faq: any encoder (model or export folder); --responses: an intent classifier from \`compactlm finetune\`; default: ${DEFAULT_MODEL_NAME}`, nonEmpty)
    .option('--faq <csv>', 'FAQ with the columns question, answer (and optionally intent)', nonEmpty)
    .option('--responses <csv>', 'responses of an intent classifier, columns intent, response (every intent it can output but the out-of-scope one)', nonEmpty)
    .option('--threshold <x>', `below this the bot falls back: cosine similarity with --faq (default ${DEFAULT_FAQ_THRESHOLD}), probability with --responses (default ${DEFAULT_INTENT_THRESHOLD})`, float(-1, 1))
    .option('--fallback <line>', 'what to answer when unsure (default: "I\'m not sure — here are the closest topics: …")', nonEmpty)
    .option('--oos-label <label>', '--responses: the classifier\'s out-of-scope label (always falls back)', nonEmpty, DEFAULT_OOS_LABEL)
    .option('--top-k <k>', 'alternatives listed after the best answer', int(0, 100), DEFAULT_ALTERNATIVES)
    .option('--json', 'print each answer as one ChatAnswer JSON object (JSONL from stdin always does)', false)
    .option('--no-cache', '--faq: neither read nor write the question vectors cached beside the FAQ file (<faq>.compactlm-vectors.json)')
    .option('--int8', 'export folders: run onnx/model_quantized.onnx', false)
    .option('--device <name>', `execution provider: ${DEVICES.join(' | ')}`, choice(DEVICES), 'cpu')
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: one per core)', int(1, 1024))
    .addHelpText('after', `
ChatAnswer (--json, JSONL): {"answer", "source": {"row", "question", "intent"?} (FAQ data row, 1-based) or
{"intent"}, "score", "fallback": true|false, "alternatives": [{"row", "question", "answer", "intent"?, "score"} or
{"intent", "answer", "score"}, ...]}. Context: a message that cannot be answered on its own is read again with
the user's previous message appended (the conversation's, or "history" in a JSONL line), and answered that way
when that lands on the previous message's topic ("is it free?" after "how do I return an item?").
Conversation commands: /reset (forget the conversation), /quit (or Ctrl-D).`)
    .action(async (message: string | undefined, flags: ChatFlags, command: Command) => runChat(chatSettings(message, flags, command)));
  example(
    cmd,
    'compactlm chat --faq datasets/shop-faq.csv                                  # a conversation on the terminal',
    'compactlm chat --faq datasets/shop-faq.csv "how long does a refund take?" --json',
    'compactlm chat --faq faq.csv --threshold 0.8 --fallback "Let me connect you to a colleague."',
    'echo \'{"message": "and how long does that take?", "history": ["I want to return a lamp"]}\' | compactlm chat --faq datasets/shop-faq.csv',
    'compactlm chat --model runs/intents --responses responses.csv --oos-label oos',
  );
}

async function runChat(s: Readonly<ChatSettings>): Promise<void> {
  const interactive = s.message === undefined && !!process.stdin.isTTY;
  const turns = s.message === undefined && !interactive ? await readTurns(process.stdin, STDIN_NAME) : undefined;
  if (turns?.length === 0) return;
  const bot = await loadChatBot({
    model: s.model, faq: s.faq, responses: s.responses, threshold: s.threshold, fallback: s.fallback, oosLabel: s.oosLabel,
    alternatives: s.alternatives, cache: s.cache, ...s.session,
  });
  try {
    log().info(`chat: ${bot.mode === 'faq' ? `FAQ ${s.faq}` : `intents of ${s.model}, responses ${s.responses}`}, threshold ${bot.threshold}`);
    if (s.message !== undefined) process.stdout.write(s.json ? `${JSON.stringify(await bot.reply(s.message))}\n` : formatAnswer(await bot.reply(s.message), bot.threshold));
    else if (interactive) await repl(bot, s);
    else await batch(bot, turns!);
  } finally {
    await bot.close();
  }
}

/** The readable form of an answer: the answer, then where it came from, then the alternatives. */
export function formatAnswer(a: ChatAnswer, threshold: number): string {
  const src = 'row' in a.source ? `FAQ row ${a.source.row}: "${a.source.question}"` : `intent ${a.source.intent}`;
  const why = a.fallback ? `fallback: best match ${src}, score ${a.score.toFixed(3)} (threshold ${threshold})` : `${src}, score ${a.score.toFixed(3)}`;
  const alts = a.alternatives.map((x) => `    ${x.score.toFixed(3)}  ${x.question !== undefined ? `"${x.question}"` : x.intent}`);
  return `${a.answer}\n  (${why})\n${alts.length ? `  alternatives:\n${alts.join('\n')}\n` : ''}`;
}

/** Earlier user messages a conversation keeps (the bot reads the last one). */
const MAX_HISTORY = 20;

async function repl(bot: ChatBot, s: Readonly<ChatSettings>): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ', historySize: 100 });
  const what = bot.mode === 'faq' ? `the FAQ ${s.faq}` : `the intents of ${s.model}`;
  process.stdout.write(`CompactLM chat, answering from ${what}. /reset starts over, /quit (or Ctrl-D) ends.\n`);
  let history: string[] = [];
  rl.on('SIGINT', () => rl.close());
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') break;
    if (text === '/reset') {
      history = [];
      process.stdout.write('(conversation reset)\n');
    } else if (text.startsWith('/')) {
      process.stdout.write(`unknown command ${text}: /reset or /quit\n`);
    } else if (text !== '') {
      const a = await bot.reply(text, history);
      process.stdout.write(s.json ? `${JSON.stringify(a)}\n` : `bot> ${formatAnswer(a, bot.threshold)}`);
      history = [...history, text].slice(-MAX_HISTORY);
    }
    rl.prompt();
  }
  rl.close();
  // The conversation is over: let go of the terminal, so nothing (a raw-mode stdin) keeps the process alive.
  process.stdin.destroy();
}

function isTurn(h: unknown): h is ChatTurn {
  if (typeof h === 'string') return true;
  const t = h as { role?: unknown; text?: unknown } | null;
  return typeof t === 'object' && t !== null && (t.role === 'user' || t.role === 'bot') && typeof t.text === 'string';
}

/** One JSONL/plain-text line of batch input → the message and its history, or null for a blank line. */
export function parseChatLine(raw: string, name: string, line: number): { message: string; history: ChatTurn[] } | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  let value: unknown = raw;
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw atLine(name, line, `not valid JSON (${(e as Error).message}); a line starting with { is read as {"message": ..., "history": [...]}`);
    }
  } else if (trimmed.startsWith('"')) {
    try {
      value = JSON.parse(trimmed) as unknown;
    } catch {
      value = raw; // plain text that happens to start with a quote
    }
    if (typeof value !== 'string') value = raw;
  }
  if (typeof value === 'string') {
    if (value.trim() === '') throw atLine(name, line, 'empty message');
    return { message: value, history: [] };
  }
  const o = value as { message?: unknown; history?: unknown } | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.message !== 'string') {
    throw atLine(name, line, 'a JSONL line must be an object with a string "message" field (and optionally "history": [earlier messages])');
  }
  if (o.message.trim() === '') throw atLine(name, line, 'empty message');
  if (o.history !== undefined && !(Array.isArray(o.history) && o.history.every(isTurn))) {
    throw atLine(name, line, '"history" must be an array of the earlier turns, oldest first: strings (the user\'s messages) or {"role": "user" | "bot", "text": ...}');
  }
  return { message: o.message, history: (o.history as ChatTurn[] | undefined) ?? [] };
}

/** The turns of JSONL batch input: every line read and checked before anything is answered (a bad line: nothing written). */
async function readTurns(input: Readable, name: string): Promise<{ message: string; history: ChatTurn[] }[]> {
  const turns: { message: string; history: ChatTurn[] }[] = [];
  let line = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const turn = parseChatLine(line === 1 ? raw.replace(/^\uFEFF/, '') : raw, name, line);
    if (turn) turns.push(turn);
  }
  if (turns.length === 0) log().warn(`${name}: no messages (every line is blank)`);
  return turns;
}

/** JSONL batch: one ChatAnswer line per turn, in order. */
async function batch(bot: ChatBot, turns: readonly { message: string; history: ChatTurn[] }[]): Promise<void> {
  for (const turn of turns) {
    if (!process.stdout.write(`${JSON.stringify(await bot.reply(turn.message, turn.history))}\n`)) await once(process.stdout, 'drain');
  }
  if (turns.length) log().info({ messages: turns.length }, `chat: ${turns.length} answers`);
}
