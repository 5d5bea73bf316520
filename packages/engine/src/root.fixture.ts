/** What the engine's tests that need the host's root powers share. */
import type { TestContext } from 'node:test';
import { which } from '@debian-forge/host';

export const isRoot = process.getuid?.() === 0;

/**
 * Whether the test can run: as root with every one of `programs` on PATH; otherwise it is skipped
 * with the reason (`what` names what root is needed for, "loop devices and mounts").
 */
export function needRoot(t: TestContext, what: string, programs: readonly string[]): boolean {
  if (!isRoot) {
    t.skip(`needs root (${what})`);
    return false;
  }
  const missing = programs.filter((p) => !which(p));
  if (missing.length > 0) {
    t.skip(`needs ${missing.join(', ')}`);
    return false;
  }
  return true;
}
