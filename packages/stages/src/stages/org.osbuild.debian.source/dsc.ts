/**
 * A Debian source control file (`.dsc`, Debian policy §5.4) read strictly: the text of a
 * clear-signed message is taken out of its armour (RFC 4880 §7: armour headers, dash-escaped lines,
 * nothing but blank lines after the signature), and the one paragraph inside must name a source,
 * a version, a format and its files by SHA256. File names are plain names (they become names in the
 * stage's work directory), and the Files and Checksums-Sha256 fields must list the same files, so
 * what dpkg-source unpacks is exactly what was checked.
 */
import { StageError } from '../../shared/errors.ts';
import { parseStanzas } from '../../shared/local-repo.ts';

export interface DscFile {
  filename: string;
  sha256: string;
  size: number;
}

export interface Dsc {
  source: string;
  version: string;
  format: string;
  /** Every file of Checksums-Sha256, in its order. */
  files: DscFile[];
  /** Every field of the paragraph as written (continuation lines joined by `\n`). */
  fields: Record<string, string>;
}

const SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const SIGNATURE_END = '-----END PGP SIGNATURE-----';
const SOURCE = /^[a-z0-9][a-z0-9+.-]+$/;
const VERSION = /^(\d+:)?[0-9][A-Za-z0-9.+~:-]*$/;
const FILENAME = /^[A-Za-z0-9][A-Za-z0-9.+~_-]*$/;

/** The signed text of a clear-signed message, or the whole text when it is not signed. */
export function clearsignedText(text: string): string {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (lines[first] !== SIGNED) {
    if (text.includes('-----BEGIN PGP')) throw new StageError('the .dsc has PGP armour in the wrong place');
    return text;
  }
  let i = first + 1;
  // Armour headers ("Hash: SHA512") up to the empty line that ends them.
  while (i < lines.length && lines[i] !== '') {
    if (!/^[A-Za-z]+: /.test(lines[i] as string))
      throw new StageError('the .dsc has a malformed armour header');
    i++;
  }
  const start = i + 1;
  const sig = lines.indexOf(SIGNATURE, start);
  const end = lines.indexOf(SIGNATURE_END, sig);
  if (sig < 0 || end < 0) throw new StageError('the signed .dsc has no complete signature block');
  if (lines.slice(end + 1).some((l) => l.trim() !== '')) {
    throw new StageError('the .dsc has text after its signature');
  }
  const body = lines.slice(start, sig).map((l) => {
    if (l.startsWith('- ')) return l.slice(2);
    if (l.startsWith('-'))
      throw new StageError('the signed .dsc has a line starting with "-" not dash-escaped');
    return l;
  });
  return `${body.join('\n')}\n`;
}

function sha256Lines(field: string): DscFile[] {
  return field
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^([0-9a-f]{64}) (\d+) (\S+)$/.exec(l);
      if (!m) throw new StageError(`the .dsc's Checksums-Sha256 has a malformed line '${l}'`);
      return { sha256: m[1] as string, size: Number(m[2]), filename: m[3] as string };
    });
}

/** The Files field's names (`md5 size name` lines). */
function md5Names(field: string): string[] {
  return field
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/)[2] ?? '');
}

/** Parses the (unsigned) text of a `.dsc`; `clearsignedText` first for a signed one. */
export function parseDsc(text: string): Dsc {
  const stanzas = parseStanzas(text);
  if (stanzas.length !== 1) throw new StageError(`a .dsc is one paragraph, this one has ${stanzas.length}`);
  const f = stanzas[0] as Record<string, string>;
  const source = f.Source ?? '';
  const version = f.Version ?? '';
  const format = f.Format ?? '';
  if (!SOURCE.test(source))
    throw new StageError(`the .dsc's Source '${source}' is not a source package name`);
  if (!VERSION.test(version)) throw new StageError(`the .dsc's Version '${version}' is not a Debian version`);
  if (!/^[0-9][0-9.]* ?(\([a-z0-9]+\))?$/.test(format)) {
    throw new StageError(`the .dsc's Format '${format}' is not a source format`);
  }
  if (f['Checksums-Sha256'] === undefined) {
    throw new StageError('the .dsc has no Checksums-Sha256 field (only MD5 is not enough)');
  }
  const files = sha256Lines(f['Checksums-Sha256']);
  if (files.length === 0) throw new StageError('the .dsc lists no files');
  const seen = new Set<string>();
  for (const file of files) {
    if (!FILENAME.test(file.filename)) {
      throw new StageError(`the .dsc lists a file named '${file.filename}', which is not a plain file name`);
    }
    if (seen.has(file.filename)) throw new StageError(`the .dsc lists ${file.filename} twice`);
    if (file.filename.endsWith('.dsc')) throw new StageError(`the .dsc lists another .dsc, ${file.filename}`);
    seen.add(file.filename);
  }
  const md5 = md5Names(f.Files ?? '');
  if (md5.length !== seen.size || md5.some((n) => !seen.has(n))) {
    throw new StageError("the .dsc's Files and Checksums-Sha256 fields list different files");
  }
  return { source, version, format, files, fields: f };
}
