/**
 * The binary packages a local source builds, known before the build from its own files (no
 * archive has them): names and architectures from the `.dsc`'s Package-List (else Binary and
 * Architecture), and for a tree, the Depends and Pre-Depends of its debian/control's binary
 * stanzas. A `.dsc` alone gives no relations: its debian/control is inside a tarball, so a built
 * package's dependencies that the image lacks fail the install stage, which names them.
 *
 * The fields are as written: their substitution variables (`${shlibs:Depends}` …), which only the
 * build fills, are dropped where relations are read (source-packages.ts). Every binary has the
 * source's version (a local source gets no binNMU suffix).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageRecord } from '@debian-forge/apt';
import { parseDsc } from '@debian-forge/stages/dsc';
import { parseStanzas } from '@debian-forge/stages/stanzas';
import type { LocalSource } from './local-source.ts';

/** What planning needs of a binary package: as an archive's Packages index would list it. */
export type BinaryRecord = Pick<
  PackageRecord,
  'name' | 'version' | 'architecture' | 'depends' | 'preDepends'
>;

/**
 * Whether a Debian architecture restriction word (`any`, `linux-any`, `any-amd64`, `amd64`)
 * takes in `debArch`; Debian's architectures of Linux are named by their CPU alone.
 */
function archMatches(word: string, debArch: string): boolean {
  return [debArch, 'any', 'linux-any', `linux-${debArch}`, `any-${debArch}`].includes(word);
}

/** The architecture a binary is built as for `debArch` (`all`, `debArch`), or none. */
function builtArch(arches: string[], debArch: string): string | undefined {
  if (arches.includes('all')) return 'all';
  return arches.some((a) => archMatches(a, debArch)) ? debArch : undefined;
}

/** The `.dsc`'s binaries by name with their architectures. */
function dscBinaries(local: LocalSource): Map<string, string[]> {
  const item = local.inline[`sha256:${local.source.dsc.sha256}`];
  const fields = item ? parseDsc(Buffer.from(item.data, 'base64').toString('utf8')).fields : {};
  const out = new Map<string, string[]>();
  const list = fields['Package-List'];
  if (list !== undefined) {
    // `name type section priority arch=any,all [profile=…]`, one binary a line.
    for (const line of list.split('\n')) {
      const words = line.trim().split(/\s+/);
      const arch = words.find((w) => w.startsWith('arch='));
      if (words[0] && arch) out.set(words[0], arch.slice('arch='.length).split(','));
    }
    return out;
  }
  const arches = local.source.architecture.split(/\s+/).filter(Boolean);
  for (const name of local.source.binaries) out.set(name, arches);
  return out;
}

/** The binary stanzas of a tree's debian/control, by package name (comment lines left out). */
function controlStanzas(tree: string): Map<string, Record<string, string>> {
  const text = readFileSync(join(tree, 'debian/control'), 'utf8')
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  const out = new Map<string, Record<string, string>>();
  for (const s of parseStanzas(text)) if (s.Package) out.set(s.Package, s);
  return out;
}

/** The binaries `local` builds for `debArch`; `tree` is its source tree when it came from one. */
export function localBinaries(local: LocalSource, debArch: string, tree?: string): BinaryRecord[] {
  const control = tree === undefined ? new Map() : controlStanzas(tree);
  const out: BinaryRecord[] = [];
  for (const [name, arches] of dscBinaries(local)) {
    const architecture = builtArch(arches, debArch);
    if (architecture === undefined) continue;
    const stanza = control.get(name);
    out.push({
      name,
      version: local.source.version,
      architecture,
      depends: stanza?.Depends ?? '',
      preDepends: stanza?.['Pre-Depends'] ?? '',
    });
  }
  return out;
}
