// Ed25519 over a command's canonical bytes (command-wire.ts): the fleet signs with the private
// key, the device verifies with the public key (PEM, SPKI). `outpost keygen` makes the pair.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export function generateCommandKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The key in a PEM text, or a sentence saying why it is not an Ed25519 key of that kind. */
export function readKey(pem: string, kind: 'public' | 'private'): KeyObject | string {
  let key: KeyObject;
  try {
    key = kind === 'public' ? createPublicKey(pem) : createPrivateKey(pem);
  } catch (err) {
    return `not a PEM ${kind} key (${(err as Error).message})`;
  }
  if (key.asymmetricKeyType !== 'ed25519') return `an ${key.asymmetricKeyType ?? 'unknown'} key; commands are signed with Ed25519 (outpost keygen makes a pair)`;
  return key;
}

export const signBytes = (bytes: Buffer, privateKey: KeyObject): string => sign(null, bytes, privateKey).toString('base64');

export function verifyBytes(bytes: Buffer, sig: string, publicKey: KeyObject): boolean {
  const raw = Buffer.from(sig, 'base64');
  if (raw.length !== 64) return false;
  try {
    return verify(null, bytes, publicKey, raw);
  } catch {
    return false;
  }
}
