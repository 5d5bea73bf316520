/**
 * Input types of a libdir, run as OSBuild's input services run (`osbuild/inputs.py`): `map` with
 * `origin`, `refs` (source checksums or pipeline ids, each with its options), `target` (the input's
 * directory on the host), the input's `options` and `api.store`, the socket of the store API
 * (api/store.ts) through which the module finds source files and pipeline trees; it answers
 * `{path, data}`, `path` in the inputs directory, which the stage gets as /run/osbuild/inputs/….
 * The modules run until the stage ends (they hold what they mapped), then `close()` stops them and
 * the store API, which unmounts the trees it mounted for them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Input } from '@debian-forge/manifest';
import { relayInterpreter } from '../api/relay.ts';
import { openStoreApi, type StoreApi, type StoreApiOptions } from '../api/store.ts';
import { type HostModules, type HostService, startAndCall } from '../host-modules/index.ts';
import { inside } from '../paths.ts';
import { type InputArgument, type InputContext, type InputPlace, inputError } from './common.ts';
import { INPUTS_IN_SANDBOX } from './index.ts';

export interface ExternalInputsOptions
  extends Omit<StoreApiOptions, 'dir' | 'pipeline' | 'sourcesDir' | 'inputsDir'> {
  modules: HostModules;
  /** A directory with a short path (the run directory), for the store API's socket. */
  rundir: string;
}

export class ExternalInputs {
  readonly #opts: ExternalInputsOptions;
  readonly #services: HostService[] = [];
  #store: { api: StoreApi; dir: string } | undefined;

  constructor(opts: ExternalInputsOptions) {
    this.#opts = opts;
  }

  /** Whether a libdir has a module for the input type. */
  has(type: string): boolean {
    return this.#opts.modules.find('Input', type) !== undefined;
  }

  async map(input: Input, place: InputPlace, ctx: InputContext): Promise<InputArgument> {
    const module = this.#opts.modules.find('Input', input.type);
    const fail = inputError(input.name);
    if (!module) throw fail(`unsupported input type ${input.type}`, undefined);
    let started: Awaited<ReturnType<typeof startAndCall>>;
    try {
      const store = await this.#storeApi(ctx);
      started = await startAndCall(
        this.#opts.modules,
        module,
        {
          id: `input/${input.name}`,
          method: 'map',
          args: {
            origin: input.origin,
            refs: Object.fromEntries(input.refs),
            target: place.hostDir,
            options: input.options,
            api: { store: store.socket },
          },
        },
        this.#opts.log,
      );
    } catch (err) {
      throw fail((err as Error).message, err);
    }
    this.#services.push(started.service);
    const reply = started.reply as { path?: unknown; data?: unknown } | null;
    const path = reply?.path;
    if (typeof path !== 'string' || (path !== ctx.inputsDir && !path.startsWith(`${ctx.inputsDir}/`)))
      throw fail(
        `${module.exe} answered the path ${JSON.stringify(path)}, not one in ${ctx.inputsDir}`,
        undefined,
      );
    const relative = path.slice(ctx.inputsDir.length);
    inside(ctx.inputsDir, relative, { what: 'input path', relative: true }, fail);
    const data = reply?.data;
    return {
      path: `${INPUTS_IN_SANDBOX}${relative}`,
      ...(data && typeof data === 'object' ? { data: data as Record<string, unknown> } : {}),
    };
  }

  /** Stops the modules (newest first), then the store API. */
  async close(): Promise<void> {
    let first: unknown;
    for (const service of this.#services.splice(0).reverse()) {
      try {
        await service.stop();
      } catch (err) {
        first ??= err;
      }
    }
    const store = this.#store;
    this.#store = undefined;
    if (store) {
      try {
        await store.api.close();
        rmSync(store.dir, { recursive: true, force: true });
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  async #storeApi(ctx: InputContext): Promise<StoreApi> {
    if (this.#store) return this.#store.api;
    const python = relayInterpreter();
    if (!python) throw new Error('no python3 on the host for the store API of input modules');
    const dir = mkdtempSync(join(this.#opts.rundir, 'forge-api-'));
    try {
      const api = await openStoreApi(python, {
        ...this.#opts,
        dir,
        sourcesDir: ctx.sourcesDir,
        inputsDir: ctx.inputsDir,
        pipeline: ctx.pipeline,
      });
      this.#store = { api, dir };
      return api;
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
}
