/**
 * The `osbuild` endpoint (OSBuild's `osbuild/api.py`, `API`): a stage's `exception` message
 * becomes the stage's `error`, `{type: "exception", data: <the message's exception>}`, which
 * `--json` and the monitor show as OSBuild does. Stages written for OSBuild before it bound the
 * meta file into the sandbox sent their metadata as `add-metadata` with a file descriptor holding
 * the JSON; that is merged into the stage's meta file, as those versions merged it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Datagram, Endpoint } from './relay.ts';

/** Largest metadata file read from an `add-metadata` descriptor. */
const METADATA_LIMIT = 16 << 20;

export interface OsbuildEndpoint extends Endpoint {
  /** The stage's error: its last exception message, or null. */
  error(): unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The endpoint of one stage, whose metadata file (bound as /run/osbuild/meta) is `metaFile`. */
export function osbuildEndpoint(metaFile: string, log: (line: string) => void): OsbuildEndpoint {
  let error: unknown = null;
  return {
    name: 'osbuild',
    error: () => error,
    async handle({ text, fds }: Datagram) {
      const msg: unknown = JSON.parse(text);
      if (!isObject(msg)) throw new Error('a message that is not a JSON object');
      if (msg.method === 'exception') {
        if (!isObject(msg.exception)) throw new Error('an exception message without an exception object');
        error = { type: 'exception', data: msg.exception };
        return undefined;
      }
      if (msg.method === 'add-metadata') {
        const fd = fds[msg.metadata as number];
        if (typeof msg.metadata !== 'number' || fd === undefined)
          throw new Error('add-metadata names no descriptor it was sent with');
        const data = readFileSync(fd);
        if (data.length > METADATA_LIMIT) throw new Error(`add-metadata: more than ${METADATA_LIMIT} bytes`);
        const added: unknown = JSON.parse(data.toString('utf8'));
        if (!isObject(added)) throw new Error('add-metadata: the metadata is not a JSON object');
        const before = readFileSync(metaFile, 'utf8');
        const merged = {
          ...(before.trim() ? (JSON.parse(before) as Record<string, unknown>) : {}),
          ...added,
        };
        writeFileSync(metaFile, JSON.stringify(merged, null, 2));
        return undefined;
      }
      log(`api osbuild: ignored a message with method ${JSON.stringify(msg.method)}`);
      return undefined;
    },
  };
}
