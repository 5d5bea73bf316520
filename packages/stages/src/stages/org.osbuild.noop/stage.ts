import type { StageArguments } from '../../shared/arguments.ts';

export function main(args: StageArguments<Record<string, unknown>>): void {
  process.stdout.write(`${JSON.stringify(args.options, null, 2)}\n`);
}
