/**
 * Model sizes by name. Sizes follow Google's BERT miniatures (Turc et al. 2019, "Well-Read Students Learn
 * Better": L=layers, H=hidden, A=heads, I=4H) and bert-base; every preset uses the bert-base-uncased vocabulary
 * (30,522 WordPiece tokens) and 512 positions. Everything else comes from the HF BertConfig defaults.
 */
export const PRESETS = {
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
  mini: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  small: { num_hidden_layers: 4, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  medium: { num_hidden_layers: 8, hidden_size: 512, num_attention_heads: 8, intermediate_size: 2048 },
  base: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, intermediate_size: 3072 },
} as const;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
