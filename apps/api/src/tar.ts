/**
 * A small streaming tar writer (POSIX ustar) for the Weldr routes that answer with tar files
 * (compose/logs, metadata, results): regular files only, from memory or from disk, never buffered
 * whole. Sizes of 8 GiB and more use the base-256 size field GNU tar and bsdtar read.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export type TarEntry =
  | { name: string; data: Buffer }
  /** A file on disk; `size` is what the header promises (the file's size now). */
  | { name: string; path: string; size: number };

const BLOCK = 512;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

function entrySize(e: TarEntry): number {
  return 'data' in e ? e.data.length : e.size;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The tar file's length in bytes, for Content-Length. */
export function tarSize(entries: readonly TarEntry[]): number {
  return entries.reduce((n, e) => n + BLOCK + entrySize(e) + padding(entrySize(e)), 0) + 2 * BLOCK;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** One ustar header block. */
export function tarHeader(name: string, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  let base = name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new Error(`tar: name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  header.write(base, 0, 100, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  if (size <= MAX_OCTAL_SIZE) header.write(octal(size, 12), 124, 'ascii');
  else {
    // base-256: the high bit of the first byte set, the size big-endian in the rest
    header[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      header[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  header.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write('0', 156, 'ascii');
  header.write('ustar\u000000', 257, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

/** The tar file of `entries` as a stream; `mtime` (seconds) is every entry's time. */
export function tarStream(entries: readonly TarEntry[], mtime: number): Readable {
  async function* blocks(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      const size = entrySize(e);
      yield tarHeader(e.name, size, mtime);
      if ('data' in e) yield e.data;
      else {
        let sent = 0;
        for await (const chunk of createReadStream(e.path)) {
          const buf = chunk as Buffer;
          const take = Math.min(buf.length, size - sent);
          if (take > 0) yield take === buf.length ? buf : buf.subarray(0, take);
          sent += take;
          if (sent >= size) break;
        }
        if (sent < size) throw new Error(`tar: ${e.path} is shorter than ${size} bytes`);
      }
      const pad = padding(size);
      if (pad > 0) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(2 * BLOCK);
  }
  return Readable.from(blocks(), { objectMode: false });
}
