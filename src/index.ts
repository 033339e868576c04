/**
 * CompactLM as a library: what `import … from 'compactlm'` gives. Each entry is the call behind a CLI command; the
 * options objects are the same settings the CLI validates (the library assumes them valid).
 *
 *   import { pretrain, distill, exportModel, FillMask, Embedder, loadTokenizer } from 'compactlm';
 *   await pretrain({ train: 'prose.csv', out: 'runs/mini', preset: 'mini', steps: 2000, ... });
 *   const fm = await FillMask.load('models/compactlm-mini');
 *   console.log(await fm.predict('Paris is the [MASK] of France.', 5));
 *   const clf = await Classifier.load('models/compactlm-mini-sentiment');
 *   console.log(await clf.classify('The battery died after two days.'));
 */
export { pretrain, trainMaskedLm, type PretrainOptions, type PretrainSummary, type TrainingSettings } from './train/pretrain.js';
export { distill, type DistillOptions, type DistillSummary } from './distill/distill.js';
export { exportModel, type ExportOptions, type ExportSummary } from './export/export-folder.js';
export { FillMask, type FillMaskResult } from './infer/fill-mask.js';
export { Embedder } from './infer/embed.js';
export { finetune, type FinetuneOptions, type FinetuneSummary } from './finetune/finetune.js';
export { distillClassifier, type DistillClassifierOptions, type ClassifierDistillReport } from './distill/distill-classifier.js';
export { Classifier, loadTextClassifier, type Classification } from './infer/classifier.js';
export type { TextClassifier } from './infer/text-classifier.js';
export { evaluateClassification, type ClassificationReport } from './eval/classification-report.js';
export { classifierHead } from './model/heads/classifier.js';
export { mlmHead } from './model/heads/mlm.js';
export { classificationLoss } from './model/classification-loss.js';
export { loadTokenizer, Tokenizer } from './tokenizer/tokenizer.js';
export { loadModelFolder, saveModelFolder } from './model/checkpoint-folder.js';
export { makeConfig, loadConfig, type BertConfig } from './model/config.js';
export { PRESET_NAMES, type PresetName } from './model/presets.js';
export { compileStep, type CompiledStep, type Head, type Loss, type IoSpec, type StepShape } from './model/step-compiler.js';
export { readMetrics } from './train/metrics.js';
export { loadSummarizer, type Summarizer, type SummaryResult, type SummaryOptions } from './summarize/summarizer.js';
export { rougeScores, type RougeScores } from './summarize/rouge.js';
export { loadChatBot, type ChatBot, type ChatAnswer, type ChatBotOptions } from './chat/bot.js';
export { buildServer, type ServeSettings, type ServePlugin, type CompactLmServer } from './serve/server.js';
export { TuringStore } from './turing/store.js';
export { FeedbackStore } from './feedback/store.js';
export { promoteIfBetter, type PromoteReport } from './feedback/promote.js';
