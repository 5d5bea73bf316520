// Entry point of the bundled `forge` (dist/forge.mjs, built by build.ts).
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
