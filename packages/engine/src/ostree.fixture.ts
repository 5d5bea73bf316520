/**
 * For tests of the OSTree modules: real repositories made with the `ostree` command (an archive
 * repository is all files, so http-static.fixture.ts serves it as `ostree pull` needs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const hasOstree = (() => {
  try {
    execFileSync('ostree', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const ostree = (repo: string, ...argv: string[]): string =>
  execFileSync('ostree', [...argv, `--repo=${repo}`], { encoding: 'utf8' }).trim();

/** Writes `files` (path → content) under `dir` and commits them to `repo` (created as an archive). */
export function commitFiles(repo: string, dir: string, ref: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  try {
    statSync(join(repo, 'config'));
  } catch {
    mkdirSync(dirname(repo), { recursive: true });
    ostree(repo, 'init', '--mode=archive');
  }
  return ostree(repo, 'commit', `--branch=${ref}`, `--tree=dir=${dir}`);
}
