import { notFound, type StoreDb } from './database.ts';
import { StoreError, StoreErrorCode } from './errors.ts';

export interface ArtifactInput {
  uuid: string;
  filename: string;
  path: string;
  size: number;
  sha256: string;
  mimeType: string;
}

export interface Artifact extends ArtifactInput {
  id: number;
  createdAt: string;
}

interface ArtifactRow {
  id: number;
  uuid: string;
  filename: string;
  path: string;
  size: number;
  sha256: string;
  mime_type: string;
  created_at: string;
}

function artifactOf(r: ArtifactRow): Artifact {
  return {
    id: r.id,
    uuid: r.uuid,
    filename: r.filename,
    path: r.path,
    size: r.size,
    sha256: r.sha256,
    mimeType: r.mime_type,
    createdAt: r.created_at,
  };
}

/**
 * The artifacts repository (table artifacts): the index of a compose's image files, by file name.
 * The files themselves are the caller's; a compose's rows go when it is deleted.
 */
export function artifactRepository({ db, tx, iso }: StoreDb) {
  // Compose ids read with lower(), as in the compose statements (composes.ts).
  const a = {
    insert: db.prepare(
      `INSERT INTO artifacts (uuid, filename, path, size, sha256, mime_type, created_at)
       VALUES (lower(@uuid), @filename, @path, @size, @sha256, @mime_type, @now)`,
    ),
    compose: db.prepare('SELECT 1 FROM composes WHERE uuid = lower(?)'),
    byId: db.prepare('SELECT * FROM artifacts WHERE id = ?'),
    get: db.prepare('SELECT * FROM artifacts WHERE uuid = lower(?) AND filename = ?'),
    list: db.prepare('SELECT * FROM artifacts WHERE uuid = lower(?) ORDER BY id'),
    delete: db.prepare('DELETE FROM artifacts WHERE uuid = lower(?) AND filename = ?'),
  };

  const artifacts = {
    /** Indexes an artifact file of a compose. Throws for an unknown compose or a file name in use. */
    add(input: ArtifactInput): Artifact {
      if (!/^[0-9a-f]{64}$/.test(input.sha256)) {
        throw new StoreError(
          StoreErrorCode.Invalid,
          `artifact ${input.filename}: sha256 must be 64 lowercase hex digits`,
        );
      }
      if (!Number.isSafeInteger(input.size) || input.size < 0) {
        throw new StoreError(StoreErrorCode.Invalid, `artifact ${input.filename}: bad size ${input.size}`);
      }
      return tx(() => {
        if (a.compose.get(input.uuid) === undefined) throw notFound(`compose ${input.uuid} does not exist`);
        if (a.get.get(input.uuid, input.filename) !== undefined) {
          throw new StoreError(StoreErrorCode.Exists, `compose ${input.uuid} already has ${input.filename}`);
        }
        const { lastInsertRowid } = a.insert.run({
          uuid: input.uuid,
          filename: input.filename,
          path: input.path,
          size: input.size,
          sha256: input.sha256,
          mime_type: input.mimeType,
          now: iso(),
        });
        return artifactOf(a.byId.get(lastInsertRowid) as ArtifactRow);
      });
    },
    get(uuid: string, filename: string): Artifact | undefined {
      const r = a.get.get(uuid, filename) as ArtifactRow | undefined;
      return r === undefined ? undefined : artifactOf(r);
    },
    /** A compose's artifacts in the order they were added. */
    list(uuid: string): Artifact[] {
      return (a.list.all(uuid) as ArtifactRow[]).map(artifactOf);
    },
    delete(uuid: string, filename: string): boolean {
      return a.delete.run(uuid, filename).changes > 0;
    },
  };

  return artifacts;
}

export type ArtifactRepository = ReturnType<typeof artifactRepository>;
