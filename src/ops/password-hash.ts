// Broker passwords stored as scrypt hashes, so a config file (or a backup of it) does not give
// away the sensors' credentials. Format, one line:
//   $scrypt$N=16384,r=8,p=1$<salt, base64>$<32-byte key, base64>
// Verification is asynchronous (libuv's pool) and costs ~50 ms by design; a successful check is
// remembered per user (by a keyed digest of the password, not the password), so a sensor that
// reconnects often does not cost that every time.
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const PATTERN = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

const scrypt = (password: string | Buffer, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

export function isPasswordHash(text: string): boolean {
  const m = PATTERN.exec(text);
  if (!m) return false;
  const n = Number(m[1]);
  return Number.isInteger(Math.log2(n)) && n >= 1024 && Buffer.from(m[5]!, 'base64').length >= 16;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_BYTES, { ...PARAMS, maxmem: 64 * 1024 * 1024 });
  return `$scrypt$N=${PARAMS.N},r=${PARAMS.r},p=${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export interface PasswordChecker {
  /** Whether `given` is the password that `stored` (a hash, or the password itself) describes. */
  verify(user: string, given: Buffer, stored: string): Promise<boolean>;
}

export function createPasswordChecker(): PasswordChecker {
  const pepper = randomBytes(32); // per process: the cache below is useless outside it
  const remembered = new Map<string, Buffer>();
  const digest = (user: string, given: Buffer, stored: string) => createHmac('sha256', pepper).update(user).update('\0').update(stored).update('\0').update(given).digest();
  return {
    async verify(user, given, stored) {
      const m = PATTERN.exec(stored);
      if (!m) return sameBytes(given, Buffer.from(stored, 'utf8'));
      const d = digest(user, given, stored);
      const known = remembered.get(user);
      if (known && timingSafeEqual(known, d)) return true;
      const expected = Buffer.from(m[5]!, 'base64');
      const key = await scrypt(given, Buffer.from(m[4]!, 'base64'), expected.length, {
        N: Number(m[1]),
        r: Number(m[2]),
        p: Number(m[3]),
        maxmem: 256 * 1024 * 1024,
      });
      const ok = sameBytes(key, expected);
      if (ok) remembered.set(user, d);
      return ok;
    },
  };
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
