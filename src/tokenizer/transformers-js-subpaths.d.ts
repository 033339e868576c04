// transformers.js 2.x publishes types for its package entry only. The tokenizer loads two of its modules directly
// (tokenizer.ts says why); their exports are the entry's.
declare module '@xenova/transformers/src/tokenizers.js' {
  export { AutoTokenizer } from '@xenova/transformers';
}
declare module '@xenova/transformers/src/env.js' {
  export { env } from '@xenova/transformers';
}
