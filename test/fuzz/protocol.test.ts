// The protocol fuzzer, bounded, in `npm test`: every round against one real agent process, which
// must stay alive and healthy, keep carrying a well-behaved sensor's readings upstream, and keep
// its memory near idle after the socket and oversize rounds. `npm run fuzz` runs it for longer.
import { describe, expect, it } from 'vitest';
import { agentProcessPerFile } from './agent-process.js';
import { ROUNDS } from './protocol-rounds.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import { FUZZ_SEED } from '../helpers/fuzz.js';

const suite = agentProcessPerFile();

describe('protocol fuzzer against a real agent process', () => {
  const random = seededRandom(FUZZ_SEED);
  for (const round of ROUNDS) {
    it(`survives: ${round.name}`, async () => {
      await round.run({ port: suite.agent.brokerPort, random, scale: Number(process.env.FUZZ_SCALE ?? 1) });
      await suite.agent.check(round.name);
      if (/half-open|100 MB/.test(round.name)) {
        const rss = suite.agent.rssMb();
        console.log(`fuzz: RSS ${rss.toFixed(1)} MB after "${round.name}" (idle ${suite.idleMb.toFixed(1)} MB)`);
        expect(rss - suite.idleMb).toBeLessThan(10);
      }
    }, 60_000);
  }
});
