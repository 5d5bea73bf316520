import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import type { InputArgument, StageArguments } from '../../shared/arguments.ts';
import { upstreamVersion } from '../../shared/debian-version.ts';
import { StageError } from '../../shared/errors.ts';
import { attempt, exec } from '../../shared/exec.ts';
import { dearmour } from '../../shared/openpgp.ts';
import { inRoot } from '../../shared/paths.ts';
import { clearsignedText, type Dsc, parseDsc } from './dsc.ts';
import type { options } from './schema.ts';

type Options = z.input<typeof options>;

const ARMOURED_KEY = '-----BEGIN PGP PUBLIC KEY BLOCK-----';

function sha256Of(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The host path of the input file with `reference`, or undefined when the input does not hold it. */
function inputFile(input: InputArgument, reference: string): string | undefined {
  const held = input.data?.files ? Object.hasOwn(input.data.files, reference) : true;
  const path = join(input.path, reference);
  return held && statSync(path, { throwIfNoEntry: false })?.isFile() ? path : undefined;
}

/** A binary keyring for gpgv in `work`: the armoured block or file de-armoured, a binary file as it is. */
function keyringFile(keyring: string, work: string): string {
  if (keyring.includes(ARMOURED_KEY)) {
    const file = join(work, 'keyring.gpg');
    writeFileSync(file, dearmour(keyring, 'given in the options'));
    return file;
  }
  if (!statSync(keyring, { throwIfNoEntry: false })?.isFile()) {
    throw new StageError(`the keyring ${keyring} is not a file in the build root`);
  }
  const text = readFileSync(keyring);
  if (!text.includes(ARMOURED_KEY)) return keyring;
  const file = join(work, 'keyring.gpg');
  writeFileSync(file, dearmour(text.toString('latin1'), keyring));
  return file;
}

/** The signed text of the .dsc, when gpgv verifies its signature with the keyring. */
function verifiedText(dscPath: string, keyring: string, work: string): string {
  const home = join(work, 'gnupg');
  mkdirSync(home, { mode: 0o700 });
  const r = attempt([
    'gpgv',
    '--homedir',
    home,
    '--keyring',
    keyringFile(keyring, work),
    '--output',
    '-',
    dscPath,
  ]);
  // gpgv writes the text out also when the signature fails: only its exit status counts.
  if (r.status !== 0) {
    throw new StageError(`the .dsc's signature does not verify with the keyring:\n${r.stderr.trim()}`);
  }
  process.stdout.write(`${r.stderr}dpkg-source is given the signed text alone, so it calls it unsigned\n`);
  return r.stdout;
}

/** Every file the .dsc lists, found in the input by its SHA256 and checked against size and hash. */
function checkedFiles(dsc: Dsc, input: InputArgument): Map<string, string> {
  const paths = new Map<string, string>();
  for (const file of dsc.files) {
    const path = inputFile(input, `sha256:${file.sha256}`);
    if (!path) {
      throw new StageError(
        `${file.filename}: the input 'sources' holds no file sha256:${file.sha256}, the .dsc's checksum of it`,
      );
    }
    const size = statSync(path).size;
    if (size !== file.size)
      throw new StageError(`${file.filename}: ${size} bytes, the .dsc says ${file.size}`);
    const sha256 = sha256Of(path);
    if (sha256 !== file.sha256) {
      throw new StageError(`${file.filename}: SHA256 ${sha256}, the .dsc says ${file.sha256}`);
    }
    paths.set(file.filename, path);
  }
  return paths;
}

export function main(args: StageArguments<Options>): Record<string, string> {
  const o = args.options;
  const input = args.inputs.sources;
  if (!input) throw new StageError("the input 'sources' is missing");
  const dscPath = inputFile(input, o.dsc);
  if (!dscPath) throw new StageError(`the .dsc ${o.dsc} is not in the input 'sources'`);
  if (`sha256:${sha256Of(dscPath)}` !== o.dsc) {
    throw new StageError(`the .dsc's content does not have its reference's SHA256 ${o.dsc}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'forge-dsc-'));
  try {
    // Read for its shape also when gpgv verifies it: nothing may stand outside the signed text.
    const unsigned = clearsignedText(readFileSync(dscPath, 'utf8'));
    const text = o.keyring ? verifiedText(dscPath, o.keyring, work) : unsigned;
    const dsc = parseDsc(text);
    const files = checkedFiles(dsc, input);
    process.stdout.write(
      `${dsc.source} ${dsc.version}: ${files.size} files match the .dsc's sizes and SHA256\n`,
    );

    // dpkg-source reads the text that was checked, unsigned, beside the files under their names.
    const dscName = `${dsc.source}_${dsc.version.replace(/^\d+:/, '')}.dsc`;
    writeFileSync(join(work, dscName), text);
    for (const [filename, path] of files) symlinkSync(path, join(work, filename));

    const path = o.path ?? `/build/${dsc.source}-${upstreamVersion(dsc.version)}`;
    const target = inRoot(args.tree, path);
    if (existsSync(target)) throw new StageError(`cannot unpack into ${path}: it exists in the tree`);
    mkdirSync(dirname(target), { recursive: true });
    // --no-copy: the tarballs stay out of the tree; dpkg-source checks the checksums once more.
    exec(['dpkg-source', '--no-copy', '-x', dscName, target], {
      cwd: work,
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    return { source: dsc.source, version: dsc.version, format: dsc.format, path };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
