import { badRequest, conflict } from '../../errors.js';
import {
  clearSignInFailures,
  findSignInFailures,
  findUserByEmail,
  findUserById,
  insertUser,
  listUsers,
  recordSignInFailure,
  type UserRow,
} from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { requireGrantableOrganizations, type Scope } from '../auth/token-service.js';
import { newId } from '../ids.js';
import { decoyPasswordHash, hashPassword, isAcceptablePassword, verifyPassword } from './passwords.js';

export interface OperatorUser {
  id: string;
  email: string;
  scopes: Scope[];
  organizationIds: string[];
  createdAt: string;
}

export type SignInResult =
  | { ok: true; user: OperatorUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

const SIGN_IN_WINDOW_MS = 15 * 60_000;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function rowToUser(row: UserRow): OperatorUser {
  return {
    id: row.id,
    email: row.email,
    scopes: row.scopes.split(',') as Scope[],
    organizationIds: JSON.parse(row.organization_ids) as string[],
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Operator users who sign in at /authorize (for the console and for add-ons' user tokens). */
export function createUserService(
  store: Store,
  options: { maxFailuresPerAccount: number; maxFailuresPerAddress: number },
) {
  return {
    async createUser(input: {
      email: string;
      password: string;
      organizationIds: readonly string[];
      scopes: readonly Scope[];
    }): Promise<OperatorUser> {
      const email = input.email.trim();
      if (!EMAIL.test(email)) throw badRequest(`"${email}" is not an email address`);
      const weak = isAcceptablePassword(input.password);
      if (weak !== undefined) throw badRequest(weak);
      const organizationIds = await requireGrantableOrganizations(store, input.organizationIds, 'a user');
      const now = Date.now();
      const row: UserRow = {
        id: newId(now),
        email,
        email_normalized: normalizeEmail(email),
        password_hash: await hashPassword(input.password),
        scopes: input.scopes.join(','),
        organization_ids: JSON.stringify(organizationIds),
        created_at: now,
        disabled_at: null,
      };
      try {
        await insertUser(store.db, row);
      } catch (error) {
        if (store.isUniqueViolation(error)) throw conflict(`A user with email ${email} exists`);
        throw error;
      }
      return rowToUser(row);
    },

    async listUsers(): Promise<OperatorUser[]> {
      return (await listUsers(store.db)).map(rowToUser);
    },

    async findUser(id: string): Promise<OperatorUser | undefined> {
      const row = await findUserById(store.db, id);
      return row && row.disabled_at === null ? rowToUser(row) : undefined;
    },

    /**
     * Checks a password, limited per account and per client address: past the limit of failures in a 15-minute
     * window every attempt is refused, right or wrong, until the window ends. An unknown account costs the same
     * scrypt work as a known one, so timing does not reveal which emails exist.
     */
    async signIn(input: { email: string; password: string; address: string }): Promise<SignInResult> {
      const now = Date.now();
      const windowStart = now - SIGN_IN_WINDOW_MS;
      const accountKey = `account:${normalizeEmail(input.email).slice(0, 320)}`;
      const addressKey = `address:${input.address}`;
      const failures = await findSignInFailures(store.db, [accountKey, addressKey]);
      for (const row of failures) {
        const limit = row.key === accountKey ? options.maxFailuresPerAccount : options.maxFailuresPerAddress;
        if (row.window_started_at >= windowStart && row.failures >= limit) {
          const retryAfterSeconds = Math.ceil((row.window_started_at + SIGN_IN_WINDOW_MS - now) / 1000);
          return { ok: false, reason: 'rate_limited', retryAfterSeconds };
        }
      }
      const row = await findUserByEmail(store.db, normalizeEmail(input.email));
      const valid = await verifyPassword(input.password, row?.password_hash ?? (await decoyPasswordHash()));
      if (row === undefined || !valid || row.disabled_at !== null) {
        await recordSignInFailure(store.db, accountKey, now, windowStart);
        await recordSignInFailure(store.db, addressKey, now, windowStart);
        return { ok: false, reason: 'invalid' };
      }
      await clearSignInFailures(store.db, accountKey);
      return { ok: true, user: rowToUser(row) };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
