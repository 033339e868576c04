// The malloc settings bin/compactlm starts Node with (see the comment there); a bench process that runs the code
// in-process, or spawns node directly, sets the same ones so it measures what the CLI runs. They only take effect
// in a process started with them in its environment.
export const MALLOC_ENV = Object.freeze({
  MALLOC_MMAP_THRESHOLD_: '2147483647',
  MALLOC_TRIM_THRESHOLD_: '8589934592',
  MALLOC_ARENA_MAX: '2',
});
