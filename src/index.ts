/**
 * CompactLM as a library: what `import … from 'compactlm'` gives. Each entry is the call behind a CLI command; the
 * options objects are the same settings the CLI validates (the library assumes them valid).
 *
 *   import { pretrain, distill, exportModel, FillMask, Embedder, loadTokenizer } from 'compactlm';
 *   await pretrain({ train: 'prose.csv', out: 'runs/mini', preset: 'mini', steps: 2000, ... });
 *   const fm = await FillMask.load('models/compactlm-mini');
 *   console.log(await fm.predict('Paris is the [MASK] of France.', 5));
 */
export { pretrain, trainMaskedLm, type PretrainOptions, type PretrainSummary, type TrainingSettings } from './train/pretrain.js';
export { distill, type DistillOptions, type DistillSummary } from './distill/distill.js';
export { exportModel, type ExportOptions, type ExportSummary } from './export/export-folder.js';
export { FillMask, type FillMaskResult } from './infer/fill-mask.js';
export { Embedder } from './infer/embed.js';
export { loadTokenizer, Tokenizer } from './tokenizer/tokenizer.js';
export { loadModelFolder, saveModelFolder } from './model/checkpoint-folder.js';
export { makeConfig, loadConfig, type BertConfig } from './model/config.js';
export { PRESET_NAMES, type PresetName } from './model/presets.js';
export { compileStep, type CompiledStep, type Head, type Loss, type IoSpec, type StepShape } from './model/step-compiler.js';
export { readMetrics } from './train/metrics.js';
