/**
 * The application: asks for a token when the service wants one (browser page over TCP), then the
 * shell with its views. A token the service refuses later brings the login back with the reason.
 */
import { Bullseye, Spinner } from '@patternfly/react-core';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { createClient, FORGE } from '../api/client.ts';
import type { TokenStore } from '../api/fetch-transport.ts';
import { type Transport, TransportError } from '../api/transport.ts';
import { ApiContext } from './context.tsx';
import { Login } from './Login.tsx';
import { Shell } from './Shell.tsx';

export interface AppProps {
  transport: Transport;
  /** Where the token is kept; absent when the transport needs none (the Cockpit page). */
  tokens?: TokenStore;
}

type Access = { state: 'checking' } | { state: 'in' } | { state: 'out'; problem?: string };

const unreachable = (err: unknown): Access => ({
  state: 'out',
  problem: `The service cannot be reached: ${String(err)}`,
});

export function App({ transport, tokens }: AppProps) {
  const [access, setAccess] = useState<Access>({ state: 'checking' });

  // Every call goes through here, so a refused token anywhere leads back to the login.
  const guarded = useMemo<Transport>(() => {
    const refused = (err: unknown) => {
      if (err instanceof TransportError && err.status === 401 && tokens) {
        tokens.set(null);
        setAccess({ state: 'out', problem: 'The service refused the token. Log in again.' });
      }
      throw err;
    };
    return {
      request: (...args) => transport.request(...args).catch(refused),
      stream: (...args) => transport.stream(...args).catch(refused),
      download: (...args) => transport.download(...args).catch(refused),
    };
  }, [transport, tokens]);
  const client = useMemo(() => createClient(guarded), [guarded]);

  /** Whether the service lets this transport in; throws when it cannot be reached. */
  const admitted = useCallback(async (): Promise<boolean> => {
    try {
      await transport.request('GET', `${FORGE}/health`);
      return true;
    } catch (err) {
      if (err instanceof TransportError && err.status === 401) return false;
      throw err;
    }
  }, [transport]);

  useEffect(() => {
    // No token kept in this tab: the login, without a request the service could only refuse (a
    // 401 the browser's console shows as an error).
    if (tokens && tokens.get() === null) {
      setAccess({ state: 'out' });
      return;
    }
    admitted().then(
      (yes) => setAccess(yes ? { state: 'in' } : { state: 'out' }),
      (err: unknown) => setAccess(unreachable(err)),
    );
  }, [admitted, tokens]);

  const login = async (token: string) => {
    tokens?.set(token);
    try {
      if (await admitted()) return setAccess({ state: 'in' });
      tokens?.set(null);
      setAccess({ state: 'out', problem: 'The service refused this token.' });
    } catch (err) {
      setAccess(unreachable(err));
    }
  };

  if (access.state === 'checking') {
    return (
      <Bullseye>
        <Spinner aria-label="Connecting to the service" />
      </Bullseye>
    );
  }
  if (access.state === 'out')
    return <Login {...(access.problem ? { problem: access.problem } : {})} onToken={login} />;
  return (
    <ApiContext.Provider value={client}>
      <Shell
        onLogout={
          tokens
            ? () => {
                tokens.set(null);
                setAccess({ state: 'out' });
              }
            : undefined
        }
      />
    </ApiContext.Provider>
  );
}
