/** A service that cannot start for a reason the user can fix; `forge serve` prints it without a stack. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
}

/** System errors of listening (address in use, no permission) as a ServiceError; others unchanged. */
export function listenError(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') {
    const where = e.port !== undefined ? `${e.address}:${e.port}` : (e.address ?? '');
    return new ServiceError(`cannot listen on ${where}: ${e.code}`);
  }
  return err;
}
