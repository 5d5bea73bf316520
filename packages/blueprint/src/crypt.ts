/**
 * Passwords as composer stores them: a plain-text user password in a blueprint is replaced by its
 * SHA-512 crypt ("$6$…", the glibc algorithm `openssl passwd -6` also uses) when the blueprint is
 * saved; an empty password is dropped; an already hashed one is kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Blueprint, type CheckResult, checkBlueprint } from './schema.ts';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A crypt(3) hash: the prefix of a method libxcrypt knows (MD5, bcrypt, SHA-256, SHA-512, scrypt,
 * yescrypt, gost-yescrypt), then `$`-separated fields of crypt's alphabet (`rounds=N` and similar
 * parameters included) ending in a non-empty hash. osbuild-composer and lorax take any password
 * that merely starts with `$2b$`, `$5$` or `$6$` as hashed; this shape check keeps that for real
 * hashes (and Debian's default `$y$`), while a plain-text password that happens to start so (with a
 * space, say, or no hash field) is still hashed instead of stored as it is.
 */
const CRYPT_HASH = /^\$(?:1|2[abxy]|5|6|7|y|gy)\$(?:[./0-9A-Za-z=,]+\$)+[./0-9A-Za-z]+$/;

export function isCryptedPassword(password: string): boolean {
  return CRYPT_HASH.test(password);
}

function sha512(...parts: Buffer[]): Buffer {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** `length` bytes of `block` repeated. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i));
  return out;
}

/** The byte triplets of the final SHA-512 digest in the order crypt's base64 writes them. */
const ORDER: [number, number, number][] = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

function b64(b2: number, b1: number, b0: number, n: number): string {
  let w = (b2 << 16) | (b1 << 8) | b0;
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ITOA64[w & 0x3f];
    w >>= 6;
  }
  return s;
}

/** A random salt of 16 crypt characters. */
export function randomSalt(): string {
  return [...randomBytes(16)].map((b) => ITOA64[b & 0x3f]).join('');
}

/**
 * SHA-512 crypt (Ulrich Drepper's specification): `$6$salt$hash`, or `$6$rounds=N$salt$hash` when
 * `rounds` is not the default 5000. The salt is cut to 16 characters.
 */
export function sha512Crypt(password: string, salt: string = randomSalt(), rounds?: number): string {
  const P = Buffer.from(password, 'utf8');
  const S = Buffer.from(salt.slice(0, 16), 'utf8');
  const n = rounds === undefined ? 5000 : Math.min(999_999_999, Math.max(1000, Math.floor(rounds)));
  const B = sha512(P, S, P);
  const a = createHash('sha512');
  a.update(P);
  a.update(S);
  a.update(repeatTo(B, P.length));
  for (let len = P.length; len > 0; len >>= 1) a.update(len & 1 ? B : P);
  let C = a.digest();
  const DP = sha512(...Array.from({ length: P.length }, () => P));
  const Pseq = repeatTo(DP, P.length);
  const DS = sha512(...Array.from({ length: 16 + (C[0] as number) }, () => S));
  const Sseq = repeatTo(DS, S.length);
  for (let i = 0; i < n; i++) {
    const h = createHash('sha512');
    h.update(i & 1 ? Pseq : C);
    if (i % 3 !== 0) h.update(Sseq);
    if (i % 7 !== 0) h.update(Pseq);
    h.update(i & 1 ? C : Pseq);
    C = h.digest();
  }
  let hash = '';
  for (const [x, y, z] of ORDER) hash += b64(C[x] as number, C[y] as number, C[z] as number, 4);
  hash += b64(0, 0, C[63] as number, 2);
  const prefix = rounds === undefined ? '$6$' : `$6$rounds=${n}$`;
  return `${prefix}${S.toString('utf8')}$${hash}`;
}

/**
 * Users with their passwords ready to store, as composer's Initialize() leaves them: plain text
 * hashed with SHA-512 crypt, empty passwords removed, hashes kept. Returns copies.
 */
export function cryptUsers<U extends { password?: string }>(
  users: readonly U[],
  salt: () => string = randomSalt,
): U[] {
  return users.map((u) => {
    if (u.password === undefined) return u;
    if (u.password === '') {
      const { password: _, ...rest } = u;
      return rest as U; // U's password is optional: leaving it out is still a U
    }
    return isCryptedPassword(u.password) ? u : { ...u, password: sha512Crypt(u.password, salt()) };
  });
}

/** The blueprint with every user password ready to store (cryptUsers). Returns a copy. */
export function cryptPasswords(bp: Blueprint, salt: () => string = randomSalt): Blueprint {
  const users = bp.customizations?.user;
  if (!users || !bp.customizations) return bp;
  return { ...bp, customizations: { ...bp.customizations, user: cryptUsers(users, salt) } };
}

/**
 * A parsed document as every entry point takes a blueprint (Weldr's blueprints/new and workspace,
 * the compose service under the Weldr, Cloud and Forge APIs): validated by the schema, then its
 * passwords made ready to store (cryptPasswords), so a plain-text password never reaches the
 * database, a manifest or a log. Never throws.
 */
export function acceptBlueprint(data: unknown, salt: () => string = randomSalt): CheckResult {
  const r = checkBlueprint(data);
  return r.ok ? { ok: true, blueprint: cryptPasswords(r.blueprint, salt) } : r;
}
