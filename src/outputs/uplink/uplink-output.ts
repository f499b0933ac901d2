// The uplink as an output: the forwarder draining the outbox to the fleet broker.
import { onceOutput, type Output } from '../output.js';
import type { Forwarder } from './uplink-types.js';

export function uplinkOutput(f: Forwarder): Output {
  return onceOutput('uplink', {
    open: async () => f.start(),
    close: (timeoutMs) => f.stop(timeoutMs),
    health: () => ({ ...f.status() }),
  });
}
