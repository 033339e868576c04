import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { configureLogger } from '../util/log.js';
import { int } from './options.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Register = (program: Command) => void;

/**
 * Every subcommand, in the order `--help` lists them, each in its own file. Loaded on demand: a command imports
 * only its own dependencies (serve's fastify, plot's vega, turing's SQLite …), which keeps `compactlm infer` quick
 * to start.
 */
const COMMANDS: [name: string, load: () => Promise<Register>][] = [
  ['preprocess', async () => (await import('./preprocess.js')).registerPreprocess],
  ['split', async () => (await import('./split.js')).registerSplit],
  ['augment', async () => (await import('./augment.js')).registerAugment],
  ['bias-report', async () => (await import('./bias-report.js')).registerBiasReport],
  ['plot', async () => (await import('./plot.js')).registerPlot],
  ['tokenize', async () => (await import('./tokenize.js')).registerTokenize],
  ['pretrain', async () => (await import('./pretrain.js')).registerPretrain],
  ['distill', async () => (await import('./distill.js')).registerDistill],
  ['finetune', async () => (await import('./finetune.js')).registerFinetune],
  ['export', async () => (await import('./export.js')).registerExport],
  ['infer', async () => (await import('./infer.js')).registerInfer],
  ['eval', async () => (await import('./eval.js')).registerEval],
  ['summarize', async () => (await import('./summarize.js')).registerSummarize],
  ['chat', async () => (await import('./chat.js')).registerChat],
  ['serve', async () => (await import('./serve.js')).registerServe],
  ['turing', async () => (await import('./turing.js')).registerTuring],
  ['feedback', async () => (await import('./feedback.js')).registerFeedback],
];

/** Global flags that take a value (the value is not the subcommand's name). */
const VALUE_FLAGS = new Set(['--seed']);

/** The subcommand named in `args` (process.argv after node and the script), or undefined (help, version, none). */
export function subcommandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (VALUE_FLAGS.has(args[i])) i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
}

/**
 * The `compactlm` program: global flags, then the subcommands. With `args`, only the subcommand they name is
 * loaded (all of them when they name none or an unknown one, so help and commander's suggestions see every one).
 */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const program = new Command('compactlm')
    .description('Raw text in CSV files → a small, fast BERT-style language model for CPUs and edge devices.')
    .version(pkg.version)
    .option('--verbose', 'debug logs and stack traces on errors', false)
    .option('--log-json', 'logs as pino JSON lines on stderr', false)
    .option('--seed <n>', 'random seed (every command is reproducible with it)', int(0, 2 ** 32 - 1), 42)
    // commander's own errors (a bad flag value, a missing option) read like every other error: one line
    .configureOutput({ outputError: (message, write) => write(`compactlm: ${message}`) })
    .hook('preAction', (_this, action) => {
      const o = action.optsWithGlobals() as { verbose?: boolean; logJson?: boolean };
      configureLogger({ json: !!o.logJson, verbose: !!o.verbose });
    });
  const name = args && subcommandOf(args);
  const versionOnly = name === undefined && !!args?.some((a) => a === '--version' || a === '-V');
  const wanted = COMMANDS.filter(([n]) => n === name);
  if (!versionOnly) for (const [, load] of wanted.length ? wanted : COMMANDS) (await load())(program);
  return program;
}
