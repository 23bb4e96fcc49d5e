import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Organization } from '../../src/client/index.js';
import type { Api } from './lib/api.js';
import type { Session } from './lib/session.js';

export interface ConsoleContext {
  session: Session;
  api: Api;
  organization: Organization;
  organizations: Organization[];
  canWrite: boolean;
  canManageWebhooks: boolean;
  selectOrganization: (id: string) => void;
  signOut: () => void;
}

export const Console = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const context = useContext(Console);
  if (context === undefined) throw new Error('useConsole outside a signed-in console');
  return context;
}
