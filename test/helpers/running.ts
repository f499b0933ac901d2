// A running agent and a stand-in fleet broker for a test, each stopped by the test's cleanups.
import { createAgent } from '../../src/agent/agent.js';
import type { Agent } from '../../src/agent/agent-types.js';
import { silentLogger } from '../../src/ops/logger.js';
import { startFleet, type Fleet } from './fleet.js';
import { testConfig } from './agent-config.js';

export type Cleanups = Array<() => Promise<unknown>>;

export async function runAgent(cleanups: Cleanups, yaml: string, dir?: string): Promise<Agent> {
  const agent = createAgent({ config: testConfig(yaml, dir), log: silentLogger() });
  await agent.start();
  cleanups.push(() => agent.stop());
  return agent;
}

export async function runFleet(cleanups: Cleanups): Promise<Fleet> {
  const f = await startFleet();
  cleanups.push(() => f.stop());
  return f;
}
