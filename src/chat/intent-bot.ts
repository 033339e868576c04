/**
 * Intent mode of `compactlm chat`: a fine-tuned intent classifier (a folder from `compactlm finetune`, or its
 * export) picks the intent of a message, and responses.csv (`intent,response`) says what to answer.
 *
 *   const bot = await IntentBot.load('runs/intents', 'responses.csv', { oosLabel: 'oos' });
 *   const [topics] = await bot.rank(['where is my parcel?']);   // every label by probability, best first
 *
 * At start every label the classifier can output must have a response, except the out-of-scope label (its
 * messages get the fallback): otherwise one line names the missing intents. Responses for intents the classifier
 * does not know are never used, and say so in a warning.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { readCsv } from '../data/csv.js';
import { Classifier } from '../infer/classifier.js';
import { CONFIG_FILE } from '../model/checkpoint-folder.js';
import { classifierLabels, isClassifier, loadConfig } from '../model/config.js';
import type { SessionConfig } from '../runtime/session.js';
import { atLine, UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { Topic } from './bot.js';

export const RESPONSE_COLUMNS = { intent: 'intent', response: 'response' } as const;

/** The default out-of-scope label (CLINC150's). */
export const DEFAULT_OOS_LABEL = 'oos';

/** intent → response, from a CSV with the columns `intent` and `response`: each intent once, neither cell empty. */
export async function readResponses(file: string): Promise<Map<string, string>> {
  const reader = await readCsv(file, { requireColumns: [RESPONSE_COLUMNS.intent, RESPONSE_COLUMNS.response] });
  const out = new Map<string, string>();
  const lines = new Map<string, number>();
  for await (const { record, row, line } of reader.rows) {
    const intent = record[RESPONSE_COLUMNS.intent].trim();
    const response = record[RESPONSE_COLUMNS.response].trim();
    if (intent === '') throw atLine(file, line, `row ${row}: empty intent`);
    if (response === '') throw atLine(file, line, `row ${row}: empty response for intent "${intent}"`);
    if (out.has(intent)) throw atLine(file, line, `row ${row}: intent "${intent}" has a response already (line ${lines.get(intent)})`);
    out.set(intent, response);
    lines.set(intent, line);
  }
  return out;
}

/**
 * The labels the classifier can output that have no response (the out-of-scope label needs none): a UserError
 * naming them when there are any; a warning for responses no label will ever use.
 */
export function checkResponses(labels: readonly string[], responses: ReadonlyMap<string, string>, oosLabel: string, file: string, model: string): void {
  const missing = labels.filter((l) => l !== oosLabel && !responses.has(l));
  if (missing.length) {
    throw new UserError(`${file}: no response for ${missing.length} of the ${labels.length} intents that ${model} can output: ` +
      `${missing.join(', ')} (add an "intent,response" row for each${labels.includes(oosLabel) ? '' : `, or check --oos-label (now "${oosLabel}")`})`);
  }
  const unused = [...responses.keys()].filter((k) => !labels.includes(k) || k === oosLabel);
  if (unused.length) {
    log().warn(`${file}: ${unused.length} response(s) never used (${unused.join(', ')}): the classifier does not output them, or they are the out-of-scope label, which gets the fallback`);
  }
}

/** Label ids by probability, highest first (ties: the lower id). */
export function byProbability(p: Float32Array): number[] {
  return Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
}

export interface IntentBotOptions extends SessionConfig {
  int8?: boolean;
  oosLabel?: string;
}

export class IntentBot {
  readonly mode = 'intent';

  private constructor(private readonly classifier: Classifier, private readonly responses: ReadonlyMap<string, string>, readonly oosLabel: string) {}

  get labels(): readonly string[] {
    return this.classifier.labels;
  }

  static async load(model: string, responsesFile: string, o: IntentBotOptions = {}): Promise<IntentBot> {
    const oosLabel = o.oosLabel ?? DEFAULT_OOS_LABEL;
    if (!statSync(model, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`${model}: model folder not found`);
    const config = await loadConfig(join(model, CONFIG_FILE));
    if (!isClassifier(config)) {
      throw new UserError(`${model}: is a ${config.architectures[0] ?? 'masked LM'}, not an intent classifier: --responses needs a folder from ` +
        '`compactlm finetune` (labels = intents); for a pretrained encoder use --faq <faq.csv>');
    }
    const responses = await readResponses(responsesFile);
    checkResponses(classifierLabels(config), responses, oosLabel, responsesFile, model);
    return new IntentBot(await Classifier.load(model, { int8: o.int8, device: o.device, threads: o.threads }), responses, oosLabel);
  }

  /** Every label of each text by probability, best first (ties: the lower label id). */
  async rank(texts: readonly string[]): Promise<Topic[][]> {
    const probs = await this.classifier.predict(texts);
    const labels = this.classifier.labels;
    return probs.map((p) => byProbability(p).map((i): Topic => {
      const intent = labels[i];
      const answer = this.responses.get(intent) ?? '';
      return { answer, score: p[i], label: intent, topic: intent, intent, outOfScope: intent === this.oosLabel, source: { intent }, alternative: { intent, answer, score: p[i] } };
    }));
  }

  close(): Promise<void> {
    return this.classifier.close();
  }
}
