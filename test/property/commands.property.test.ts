// Commands' pure parts under generated input: canonical JSON does not depend on key order (so a
// signature made by one JSON library verifies after another re-serialized the command), a
// signature covers every field (any change refuses it), args checks never throw and name the
// path of each problem, and reply routes never leave the device's prefix.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, signedBytes, type CommandRequest } from '../../src/wire/command-wire.js';
import { generateCommandKeys, readKey, signBytes, verifyBytes } from '../../src/commands/command-signature.js';
import { COMMAND_NAMES, parseArgs } from '../../src/commands/command-args.js';
import { replyRoute } from '../../src/agent/commands/command-reply.js';
import { fuzzParams } from '../helpers/fuzz.js';

const keys = generateCommandKeys();
const priv = readKey(keys.privateKey, 'private') as KeyObject;
const pub = readKey(keys.publicKey, 'public') as KeyObject;

/** The same object with its keys in another order, at every level. */
function shuffled(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffled(x, seed + 1));
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).map(([k, x]) => [k, shuffled(x, seed + 1)] as const);
    entries.sort(([a], [b]) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (seed % 2 ? a.localeCompare(b) : b.localeCompare(a)));
    return Object.fromEntries(entries);
  }
  return v;
}

const args = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

describe('command signatures', () => {
  it('canonical JSON ignores key order and survives a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.nat(), (v, seed) => {
        const c = canonicalJson(v);
        expect(canonicalJson(shuffled(v, seed))).toBe(c);
        expect(canonicalJson(JSON.parse(JSON.stringify(v)))).toBe(c);
      }),
      fuzzParams(300),
    );
  });

  it('a signed command verifies after re-serialization, and any change to it refuses it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), args, fc.constantFrom(...COMMAND_NAMES), fc.nat(), fc.string({ maxLength: 5 }), (id, a, name, seed, extra) => {
        const r: CommandRequest = { v: 1, id, args: a, expiresAt: '2026-12-01T00:00:00.000Z', issuedBy: 'ops' };
        const sig = signBytes(signedBytes('dev-1', name, r), priv);
        const again = JSON.parse(JSON.stringify(shuffled({ ...r, sig }, seed))) as CommandRequest;
        expect(verifyBytes(signedBytes('dev-1', name, again), again.sig!, pub)).toBe(true);
        expect(verifyBytes(signedBytes('dev-2', name, again), sig, pub)).toBe(false);
        expect(verifyBytes(signedBytes('dev-1', `${name}x`, again), sig, pub)).toBe(false);
        expect(verifyBytes(signedBytes('dev-1', name, { ...again, id: `${id}${extra}!` }), sig, pub)).toBe(false);
        expect(verifyBytes(signedBytes('dev-1', name, { ...again, args: { ...a, [`k${extra}`]: 1 } }), sig, pub)).toBe(false);
        expect(verifyBytes(signedBytes('dev-1', name, { ...again, issuedBy: 'mallory' }), sig, pub)).toBe(false);
      }),
      fuzzParams(100),
    );
  });

  it('a malformed signature is refused, never thrown', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (sig) => {
      expect(verifyBytes(Buffer.from('x'), sig, pub)).toBe(false);
    }), fuzzParams(200));
  });
});

describe('command args', () => {
  it('are checked without throwing; each problem names its path under args', () => {
    fc.assert(
      fc.property(fc.constantFrom(...COMMAND_NAMES), fc.jsonValue({ maxDepth: 3 }), (name, a) => {
        const r = parseArgs(name, a);
        if (!r.ok) for (const p of r.problems) expect(p).toMatch(/^args(\.|\[|:)/);
      }),
      fuzzParams(500),
    );
  });
});

describe('reply routes', () => {
  it('stay under <prefix>/cmd-result whatever response topic a request names', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.option(fc.uint8Array({ maxLength: 2000 })), (topic, cd) => {
        const r = replyRoute('outpost/dev-1', { responseTopic: topic, correlationData: cd ? Buffer.from(cd) : undefined });
        expect(r.sensor === 'cmd-result' || r.sensor.startsWith('cmd-result/')).toBe(true);
        expect(r.sensor).not.toMatch(/[+#\0]/);
        if (r.props) expect(Buffer.from((JSON.parse(r.props) as { correlationData: string }).correlationData, 'base64').length).toBeLessThanOrEqual(1024);
      }),
      fuzzParams(500),
    );
  });
});
