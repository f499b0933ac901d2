// `outpost keygen [--out PREFIX]`: an Ed25519 key pair for signed commands. The private key
// (PREFIX.key, mode 0600) goes to the fleet (commands.privateKey), the public key (PREFIX.pub)
// to every device (commands.publicKey). Existing files are never overwritten.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { generateCommandKeys } from '../commands/command-signature.js';
import type { Io } from './io.js';

export function keygen(o: { out: string }, io: Io): number {
  const priv = resolve(`${o.out}.key`);
  const pub = resolve(`${o.out}.pub`);
  if (!existsSync(dirname(priv))) {
    io.err(`outpost keygen: ${dirname(priv)} does not exist (mkdir -p it first)`);
    return 1;
  }
  for (const f of [priv, pub]) {
    if (existsSync(f)) {
      io.err(`outpost keygen: ${f} exists; not overwritten (choose another --out, or move it aside)`);
      return 1;
    }
  }
  const keys = generateCommandKeys();
  writeFileSync(priv, keys.privateKey, { mode: 0o600, flag: 'wx' });
  writeFileSync(pub, keys.publicKey, { mode: 0o644, flag: 'wx' });
  chmodSync(pub, 0o644); // whatever the umask: every device needs to read it
  chmodSync(priv, 0o600);
  io.out(`private key: ${priv} (keep it on the fleet: commands.privateKey: "\${file:${priv}}")`);
  io.out(`public key:  ${pub} (on every device: commands.publicKey: "\${file:${pub}}")`);
  return 0;
}
