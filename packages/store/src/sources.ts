import { checkName, type StoreDb } from './database.ts';
import { StoreError, StoreErrorCode } from './errors.ts';

export interface SourceInput {
  /** The key: Weldr v0's `name`, v1's `id`. */
  name: string;
  /** The human name Weldr v1 shows beside the key (its `name`); the key when left out. */
  displayName?: string;
  type?: 'deb';
  url: string;
  suites?: string[];
  components?: string[];
  signedBy?: string[];
  checkGpg?: boolean;
  checkSsl?: boolean;
  system?: boolean;
  /** The distros (`debian-12` …) the source is used for; empty (the default) means every one. */
  distros?: string[];
}

export interface Source extends Required<SourceInput> {
  createdAt: string;
  updatedAt: string;
}

interface SourceRow {
  name: string;
  display_name: string;
  type: string;
  url: string;
  suites: string;
  components: string;
  signed_by: string;
  check_gpg: number;
  check_ssl: number;
  system: number;
  distros: string;
  created_at: string;
  updated_at: string;
}

function sourceOf(r: SourceRow): Source {
  return {
    name: r.name,
    displayName: r.display_name,
    type: 'deb',
    url: r.url,
    suites: JSON.parse(r.suites) as string[],
    components: JSON.parse(r.components) as string[],
    signedBy: JSON.parse(r.signed_by) as string[],
    checkGpg: r.check_gpg === 1,
    checkSsl: r.check_ssl === 1,
    system: r.system === 1,
    distros: JSON.parse(r.distros) as string[],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * The sources repository (table sources): the package sources a compose may use. System sources
 * (the host's) are kept apart from a user's: a user can neither change nor delete them.
 */
export function sourceRepository({ db, tx, iso }: StoreDb) {
  const s = {
    get: db.prepare('SELECT * FROM sources WHERE name = ?'),
    all: db.prepare('SELECT * FROM sources ORDER BY name'),
    upsert: db.prepare(
      `INSERT INTO sources (name, display_name, type, url, suites, components, signed_by, check_gpg, check_ssl, system, distros, created_at, updated_at)
       VALUES (@name, @display_name, 'deb', @url, @suites, @components, @signed_by, @check_gpg, @check_ssl, @system, @distros, @now, @now)
       ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, url = excluded.url,
         suites = excluded.suites, components = excluded.components, signed_by = excluded.signed_by,
         check_gpg = excluded.check_gpg, check_ssl = excluded.check_ssl, system = excluded.system,
         distros = excluded.distros, updated_at = excluded.updated_at`,
    ),
    delete: db.prepare('DELETE FROM sources WHERE name = ?'),
  };

  const sources = {
    /**
     * Adds or replaces a source. A system source (`system: true`) can only be replaced by another
     * system source: a user's `put` over it is refused with `FORGE_ERR_STORE_SYSTEM_SOURCE`.
     */
    put(input: SourceInput): Source {
      checkName(input.name, 'source');
      return tx(() => {
        if (input.type !== undefined && input.type !== 'deb') {
          throw new StoreError(StoreErrorCode.Invalid, `source ${input.name}: type must be "deb"`);
        }
        const old = s.get.get(input.name) as SourceRow | undefined;
        if (old?.system === 1 && input.system !== true) {
          throw new StoreError(
            StoreErrorCode.SystemSource,
            `${input.name} is a system source, it cannot be changed`,
          );
        }
        s.upsert.run({
          name: input.name,
          display_name: input.displayName ?? input.name,
          url: input.url,
          suites: JSON.stringify(input.suites ?? []),
          components: JSON.stringify(input.components ?? []),
          signed_by: JSON.stringify(input.signedBy ?? []),
          check_gpg: input.checkGpg === false ? 0 : 1,
          check_ssl: input.checkSsl === false ? 0 : 1,
          system: input.system === true ? 1 : 0,
          distros: JSON.stringify(input.distros ?? []),
          now: iso(),
        });
        return sourceOf(s.get.get(input.name) as SourceRow);
      });
    },
    get(name: string): Source | undefined {
      const r = s.get.get(name) as SourceRow | undefined;
      return r === undefined ? undefined : sourceOf(r);
    },
    /** Every source, by name. */
    list(): Source[] {
      return (s.all.all() as SourceRow[]).map(sourceOf);
    },
    /** Deletes a user's source; false when unknown; system sources are refused. */
    delete(name: string): boolean {
      return tx(() => {
        const old = s.get.get(name) as SourceRow | undefined;
        if (old === undefined) return false;
        if (old.system === 1) {
          throw new StoreError(
            StoreErrorCode.SystemSource,
            `${name} is a system source, it cannot be deleted`,
          );
        }
        return s.delete.run(name).changes > 0;
      });
    },
  };

  return sources;
}
