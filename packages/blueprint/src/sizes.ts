/**
 * Data sizes as blueprints write them: a byte count, or a string such as "2 GiB", "512 MiB",
 * "20GB", "4096" (units B, kB/KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB of 1024).
 */

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  kB: 1000,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Bytes of a size string; throws an Error saying what is wrong. */
export function parseDataSize(text: string): number {
  const m = text.trim().match(/^(\d+)\s*([A-Za-z]*)$/);
  if (!m) throw new Error(`"${text}" is not a size (write a number of bytes or e.g. "2 GiB")`);
  const unit = m[2] as string;
  const factor = UNITS[unit];
  if (factor === undefined) {
    throw new Error(`unknown size unit "${unit}" in "${text}" (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)`);
  }
  const bytes = Number(m[1]) * factor;
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${text}" is too large`);
  return bytes;
}
