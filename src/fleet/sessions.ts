// Dashboard logins (http.auth): a session id in an HttpOnly, SameSite=Strict cookie, and a CSRF
// token the page sends back as a header with every write action. Kept in memory (a restart asks
// users to log in again), bounded, expiring.
import { randomBytes } from 'node:crypto';
import { createPasswordChecker } from '../ops/password-hash.js';

const TTL_MS = 12 * 3_600_000;
const MAX_SESSIONS = 1000;
/** Failed logins from one address before it must wait, and how long (ms). */
const MAX_FAILURES = 5;
const PENALTY_MS = 60_000;
export const SESSION_COOKIE = 'outpost_fleet';

export interface Session {
  user: string;
  csrf: string;
  expires: number;
}

export interface Sessions {
  /**
   * A session for valid credentials, undefined for wrong ones (after the same work for an
   * unknown user), or 'wait' while `from` (an address) is penalised for failing too often.
   */
  login(username: string, password: string, from?: string): Promise<{ id: string; session: Session } | undefined | 'wait'>;
  get(cookieHeader: string | undefined): Session | undefined;
  logout(cookieHeader: string | undefined): void;
}

/** The session id in a Cookie header. */
function idOf(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === SESSION_COOKIE && v) return v;
  }
  return undefined;
}

export function createSessions(users: ReadonlyArray<{ username: string; password: string }>, now: () => number = Date.now): Sessions {
  const checker = createPasswordChecker();
  const sessions = new Map<string, Session>();
  // Failed logins per address: a password cannot be guessed at scrypt's pace from one place.
  const failures = new Map<string, { count: number; until: number }>();
  // Unknown users cost a scrypt check too: timing does not tell which usernames exist.
  const dummy = '$scrypt$N=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  return {
    async login(username, password, from = '?') {
      const f = failures.get(from);
      if (f && f.count >= MAX_FAILURES && f.until > now()) return 'wait';
      const user = users.find((u) => u.username === username);
      const ok = await checker.verify(username, Buffer.from(password), user?.password ?? dummy);
      if (!user || !ok) {
        const count = f && f.until > now() ? f.count + 1 : 1;
        if (failures.size >= MAX_SESSIONS) failures.delete(failures.keys().next().value!);
        failures.set(from, { count, until: now() + PENALTY_MS });
        return undefined;
      }
      failures.delete(from);
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      const id = randomBytes(24).toString('base64url');
      const session = { user: username, csrf: randomBytes(24).toString('base64url'), expires: now() + TTL_MS };
      sessions.set(id, session);
      return { id, session };
    },
    get(cookieHeader) {
      const id = idOf(cookieHeader);
      const s = id ? sessions.get(id) : undefined;
      if (!s) return undefined;
      if (s.expires < now()) {
        sessions.delete(id!);
        return undefined;
      }
      return s;
    },
    logout(cookieHeader) {
      const id = idOf(cookieHeader);
      if (id) sessions.delete(id);
    },
  };
}
