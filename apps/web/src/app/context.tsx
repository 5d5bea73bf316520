/** What every view reads from its surroundings: the API client and how to move between views. */
import { createContext, useContext } from 'react';
import type { Client } from '../api/client.ts';

export const ApiContext = createContext<Client | null>(null);

export function useApi(): Client {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi outside the ApiContext provider');
  return client;
}
