/**
 * For the tests that check an image was made by its manifest's build root, not by the host: the
 * .deb files the `build` pipeline installs, as fetched into the store's sources, so that a mark
 * in the image is compared with the build root's own package (its version, its files) and not
 * with a version written into the test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Manifest {
  pipelines: { name: string; stages: { inputs?: Record<string, { references: string[] | object }> }[] }[];
  sources: Record<string, { items: Record<string, string | { url: string }> }>;
}

export interface BuildRootPackage {
  /** The .deb in the store's sources. */
  deb: string;
  /** Its Debian version, from its control file. */
  version: string;
  /** Extracts the package's files into `dir` (made if missing) and returns `dir`. */
  extract(dir: string): string;
}

/** The package `name` that the `build` pipeline of the manifest file installs, from `store`. */
export function buildRootPackage(manifestFile: string, store: string, name: string): BuildRootPackage {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const build = manifest.pipelines.find((p) => p.name === 'build');
  if (!build) throw new Error(`${manifestFile} has no build pipeline`);
  const items = manifest.sources['org.osbuild.curl']?.items ?? {};
  const ids = build.stages.flatMap((s) =>
    Object.values(s.inputs ?? {}).flatMap((i) =>
      Array.isArray(i.references) ? i.references : Object.keys(i.references),
    ),
  );
  const id = ids.find((i) => {
    const item = items[i];
    const url = typeof item === 'string' ? item : item?.url;
    return (
      url !== undefined && decodeURIComponent(url.slice(url.lastIndexOf('/') + 1)).startsWith(`${name}_`)
    );
  });
  if (!id) throw new Error(`the build pipeline of ${manifestFile} installs no ${name}`);
  const deb = join(store, 'sources', 'org.osbuild.files', id);
  const version = execFileSync('dpkg-deb', ['--field', deb, 'Version'], { encoding: 'utf8' }).trim();
  return {
    deb,
    version,
    extract(dir) {
      mkdirSync(dir, { recursive: true });
      execFileSync('dpkg-deb', ['--extract', deb, dir]);
      return dir;
    },
  };
}
