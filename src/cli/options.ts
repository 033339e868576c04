import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';

/**
 * The CLI boundary: option parsers shared by every subcommand (each rejects a bad value with a one-line message
 * naming the flag, through commander), the checks that involve several flags, and the frozen settings object
 * every command hands to the library. The library assumes what arrives here was checked.
 *
 * Exit status: 1 for bad input (and commander's own errors), 2 for an inconsistent combination of flags.
 */

/** Exit status of a usage error found after parsing (flags that do not go together). */
export const USAGE_EXIT = 2;

/** A number in [min, max]; `exclusiveMin`/`exclusiveMax` make that end open: float(0, 1, { exclusiveMax: true }) is [0, 1). */
export function float(min = -Infinity, max = Infinity, o: { exclusiveMin?: boolean; exclusiveMax?: boolean } = {}): (v: string) => number {
  const range = `${o.exclusiveMin ? '(' : '['}${min}, ${max}${o.exclusiveMax ? ')' : ']'}`;
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`"${v}" is not a number.`);
    const below = o.exclusiveMin ? x <= min : x < min;
    const above = o.exclusiveMax ? x >= max : x > max;
    if (below || above) throw new InvalidArgumentError(`${x} is outside ${range}.`);
    return x;
  };
}

export function int(min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isInteger(x)) throw new InvalidArgumentError(`"${v}" is not a whole number.`);
    if (x < min || x > max) throw new InvalidArgumentError(`${x} is outside [${min}, ${max}].`);
    return x;
  };
}

export function choice<T extends string>(values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`"${v}" is not one of: ${values.join(', ')}.`);
    return v as T;
  };
}

/** A non-empty string (a column name, a path). */
export function nonEmpty(v: string): string {
  if (v.trim() === '') throw new InvalidArgumentError('must not be empty.');
  return v;
}

export interface GlobalOptions {
  verbose: boolean;
  logJson: boolean;
  seed: number;
}

/** Global flags merged with the subcommand's own (a subcommand's --seed wins over the global one). */
export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as Partial<GlobalOptions>;
  return { verbose: !!o.verbose, logJson: !!o.logJson, seed: o.seed ?? 42 };
}

/** Appends an "Example:" section to a subcommand's --help. */
export function example(cmd: Command, ...lines: string[]): Command {
  return cmd.addHelpText('after', `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** One-line error for flags that do not go together (exit status 2). */
export function usageError(message: string): UserError {
  return new UserError(message, USAGE_EXIT);
}

/** The settings object a command passes to the library: checked, complete, and frozen. */
export function frozen<T extends object>(settings: T): Readonly<T> {
  return Object.freeze(settings);
}

/** Whether the user gave this option (not commander's default). */
export function given(cmd: Command, key: string): boolean {
  const source = cmd.getOptionValueSource(key);
  return source !== undefined && source !== 'default' && source !== 'implied';
}

/** Adds `flags` as a hidden, deprecated spelling of another option (resolved with `preferAlias`). */
export function addDeprecatedAlias(cmd: Command, flags: string, parser?: (v: string) => unknown): Command {
  const opt = new Option(flags).hideHelp();
  if (parser) opt.argParser(parser);
  return cmd.addOption(opt);
}

/**
 * The value of `key`, or of its deprecated alias `aliasKey` when only the alias was given (with a warning that
 * names the new flag). Both given: a usage error.
 */
export function preferAlias<T>(cmd: Command, key: string, aliasKey: string, flag: string, aliasFlag: string): T {
  const o = cmd.opts() as Record<string, unknown>;
  if (o[aliasKey] === undefined) return o[key] as T;
  if (given(cmd, key)) throw usageError(`give ${flag}, not both ${flag} and ${aliasFlag} (its old name)`);
  log().warn(`${aliasFlag} is deprecated: use ${flag}`);
  return o[aliasKey] as T;
}

// No command destroys one of its inputs: the checks live in output-guard.ts.
export { refuseOverwritingInputs, samePath, isWithin, type NamedPath } from './output-guard.js';
