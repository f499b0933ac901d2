// The protocol fuzzer, bounded, in `npm test`: every round against one real agent process, which
// must stay alive and healthy, keep carrying a well-behaved sensor's readings upstream, and keep
// its memory near idle after the socket and oversize rounds. `npm run fuzz` runs it for longer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgentProcess, type AgentProcess } from './agent-process.js';
import { ROUNDS } from './protocol-rounds.js';
import { seededRandom } from '../../src/sources/simulated/signal.js';
import { FUZZ_SEED } from '../helpers/fuzz.js';

let agent: AgentProcess;
let idleMb = 0;
beforeAll(async () => {
  agent = await startAgentProcess();
  await agent.check('start');
  idleMb = agent.rssMb();
}, 30_000);
afterAll(async () => agent?.stop());

describe('protocol fuzzer against a real agent process', () => {
  const random = seededRandom(FUZZ_SEED);
  for (const round of ROUNDS) {
    it(`survives: ${round.name}`, async () => {
      await round.run({ port: agent.brokerPort, random, scale: Number(process.env.FUZZ_SCALE ?? 1) });
      await agent.check(round.name);
      if (/half-open|100 MB/.test(round.name)) {
        const rss = agent.rssMb();
        console.log(`fuzz: RSS ${rss.toFixed(1)} MB after "${round.name}" (idle ${idleMb.toFixed(1)} MB)`);
        expect(rss - idleMb).toBeLessThan(10);
      }
    }, 60_000);
  }
});
