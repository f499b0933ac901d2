// The token for the agent's HTTP write actions: http.token from the config (via ${file:}), or,
// when none is set, a random one made at each start and written beside the database with mode
// 0600, where the CLI on the same device (run as the same user, or root) reads it.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function httpTokenPath(storagePath: string): string {
  return join(dirname(storagePath), 'http.token');
}

/** The token the agent accepts; writes the generated one to its file. */
export function agentHttpToken(configured: string | undefined, storagePath: string): string {
  if (configured) return configured;
  const token = randomBytes(24).toString('base64url');
  const file = httpTokenPath(storagePath);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its mode otherwise
  return token;
}

/** The token a CLI command sends, or undefined when it cannot be read. */
export function cliHttpToken(configured: string | undefined, storagePath: string): string | undefined {
  if (configured) return configured;
  try {
    return readFileSync(httpTokenPath(storagePath), 'utf8').trim();
  } catch {
    return undefined;
  }
}
