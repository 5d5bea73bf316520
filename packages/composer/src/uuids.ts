/**
 * Deterministic identifiers for a manifest: UUIDs (partition table, partitions, filesystems)
 * derived from a seed, so the same request always gives the same manifest, byte for byte.
 */
import { createHash } from 'node:crypto';

export function seededUuid(seed: string, purpose: string): string {
  const h = createHash('sha256').update(`${seed}\0${purpose}`).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x40;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A FAT volume id (8 hex digits) from the seed. */
export function seededVolid(seed: string, purpose: string): string {
  return createHash('sha256').update(`${seed}\0${purpose}`).digest('hex').slice(0, 8);
}
