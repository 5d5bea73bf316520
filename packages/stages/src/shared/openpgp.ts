/**
 * OpenPGP public keys given as ASCII armour (RFC 4880, 6.2) turned into the binary packets that
 * apt's `.gpg` keyrings and gpgv's `--keyring` want, in the stage itself: no gpg is needed in the
 * build root, and a damaged key fails on its armour checksum, not later as a bad signature.
 */
import { StageError } from './errors.ts';

/** CRC-24 of OpenPGP's ASCII armour (RFC 4880, 6.1). */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** The binary packets of every public key block in `text`, checked against their CRC-24. */
export function dearmour(text: string, name: string): Buffer {
  const blocks = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/g;
  const parts: Buffer[] = [];
  for (const m of text.matchAll(blocks)) {
    const lines = (m[1] ?? '').split(/\r?\n/);
    const blank = lines.findIndex((l) => l.trim() === '');
    const body = (blank >= 0 ? lines.slice(blank + 1) : lines).map((l) => l.trim()).filter(Boolean);
    let checksum: string | undefined;
    if (body.length > 0 && (body[body.length - 1] as string).startsWith('=')) {
      checksum = (body.pop() as string).slice(1);
    }
    const b64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length === 0) {
      throw new StageError(`keyring ${name}: the armoured key is not valid base64`);
    }
    const data = Buffer.from(b64, 'base64');
    if (checksum !== undefined) {
      const expected = Buffer.from(checksum, 'base64');
      const got = crc24(data);
      if (expected.length !== 3 || expected.readUIntBE(0, 3) !== got) {
        throw new StageError(`keyring ${name}: the armour checksum does not match`);
      }
    }
    parts.push(data);
  }
  if (parts.length === 0) throw new StageError(`keyring ${name} holds no PGP public key block`);
  return Buffer.concat(parts);
}
