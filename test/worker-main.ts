/**
 * A worker as its own process, for tests that kill it: the configuration from the environment
 * (as `forge worker` takes it) plus FORGE_TEST_WORKER_OPTIONS (JSON: timings, resources, libdir).
 * Prints `ready <name>` when it takes jobs; SIGTERM stops it.
 */

import { startWorker, workerOptionsFromEnv } from '@debian-forge/worker';
import { pino } from 'pino';
import { FORGE } from './engine.fixture.ts';

const extra = JSON.parse(process.env.FORGE_TEST_WORKER_OPTIONS ?? '{}');
const worker = await startWorker({
  ...workerOptionsFromEnv(process.env, extra),
  forgeCommand: [process.execPath, FORGE],
  logger: pino({ level: 'warn' }, pino.destination(2)),
});
process.stdout.write(`ready ${worker.name}\n`);
process.once('SIGTERM', () => {
  void worker.close(true).then(() => process.exit(0));
});
