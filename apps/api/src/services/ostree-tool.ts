/**
 * The `ostree` command on one archive repository, and what can be read of the repository without
 * it (an archive repository is plain files: `refs/heads/<ref>` holds a checksum, a commit is
 * `objects/<2 digits>/<62 digits>.commit`). Commands go through the host layer's `run`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '@debian-forge/host';

const CHECKSUM = /^[0-9a-f]{64}$/;

/** Whether `text` is an OSTree commit checksum (64 lowercase hexadecimal digits). */
export function isChecksum(text: string): boolean {
  return CHECKSUM.test(text);
}

export class OstreeTool {
  constructor(readonly repo: string) {}

  #ostree(...argv: string[]): Promise<unknown> {
    return run(['ostree', ...argv, `--repo=${this.repo}`]);
  }

  /** Creates the repository (archive mode) unless it exists. */
  async init(): Promise<void> {
    if (!existsSync(join(this.repo, 'config'))) await this.#ostree('init', '--mode=archive');
  }

  /** Copies `commit` (not its parents) from the repository `from`, checking every object's checksum. */
  async pullLocal(from: string, commit: string): Promise<void> {
    await this.#ostree('pull-local', '--untrusted', from, commit);
  }

  /** Points `ref` at `commit`, or deletes it (null). */
  async setRef(ref: string, commit: string | null): Promise<void> {
    if (commit === null) await this.#ostree('refs', `--delete`, ref);
    else await this.#ostree('refs', '--force', `--create=${ref}`, commit);
  }

  /** Deletes `commit` and the objects no other commit of the repository holds. */
  async deleteCommit(commit: string): Promise<void> {
    await this.#ostree('prune', `--delete-commit=${commit}`);
  }

  async updateSummary(): Promise<void> {
    await this.#ostree('summary', '--update');
  }

  hasCommit(commit: string): boolean {
    return (
      isChecksum(commit) &&
      existsSync(join(this.repo, 'objects', commit.slice(0, 2), `${commit.slice(2)}.commit`))
    );
  }

  /** The commit `ref` points at, or null. */
  head(ref: string): string | null {
    try {
      const text = readFileSync(join(this.repo, 'refs', 'heads', ref), 'utf8').trim();
      return isChecksum(text) ? text : null;
    } catch {
      return null;
    }
  }

  /** The refs of the repository (`refs/heads`, nested names joined by `/`). */
  refs(): string[] {
    const heads = join(this.repo, 'refs', 'heads');
    if (!existsSync(heads)) return [];
    return readdirSync(heads, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(heads.length + 1));
  }

  /** Every commit the repository holds. */
  commits(): string[] {
    const objects = join(this.repo, 'objects');
    if (!existsSync(objects)) return [];
    const found: string[] = [];
    for (const dir of readdirSync(objects)) {
      for (const name of readdirSync(join(objects, dir))) {
        if (name.endsWith('.commit')) found.push(dir + name.slice(0, -'.commit'.length));
      }
    }
    return found.filter(isChecksum);
  }
}
