import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { configureLogger } from '../util/log.js';
import { int } from './options.js';
import { registerPreprocess } from './preprocess.js';
import { registerSplit } from './split.js';
import { registerAugment } from './augment.js';
import { registerBiasReport } from './bias-report.js';
import { registerPlot } from './plot.js';
import { registerTokenize } from './tokenize.js';
import { registerPretrain } from './pretrain.js';
import { registerDistill } from './distill.js';
import { registerInfer } from './infer.js';
import { registerExport } from './export.js';
import { registerEval } from './eval.js';
import { registerFinetune } from './finetune.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The `compactlm` program: global flags, then one subcommand per pipeline step (each in its own file). */
export function buildProgram(): Command {
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
  registerPreprocess(program);
  registerSplit(program);
  registerAugment(program);
  registerBiasReport(program);
  registerPlot(program);
  registerTokenize(program);
  registerPretrain(program);
  registerDistill(program);
  registerInfer(program);
  registerExport(program);
  registerEval(program);
  registerFinetune(program);
  return program;
}
