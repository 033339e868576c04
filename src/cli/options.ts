import { InvalidArgumentError, type Command } from 'commander';

/** Option parsers shared by subcommands: each rejects bad values with a one-line message. */
export function float(min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`"${v}" is not a number.`);
    if (x < min || x > max) throw new InvalidArgumentError(`${x} is outside [${min}, ${max}].`);
    return x;
  };
}

export function int(min = -Infinity, max = Infinity): (v: string) => number {
  return (v) => {
    const x = Number(v);
    if (!Number.isInteger(x)) throw new InvalidArgumentError(`"${v}" is not a whole number.`);
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
