// Builds the libdir: `npm run build -w @debian-forge/stages [-- OUTDIR]`.
import { buildLibdir } from './src/libdir.ts';
import { DEFAULT_LIBDIR } from './src/location.ts';

const out = process.argv[2] ?? DEFAULT_LIBDIR;
const { stages } = await buildLibdir(out);
process.stdout.write(`libdir: ${stages.length} stages in ${out}\n`);
