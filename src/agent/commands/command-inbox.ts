// Where commands wait for their runner, and the order they are handled in. The uplink's
// persistent session delivers commands sent while the device was offline right after it
// connects, before the stream and the command runner have started (the uplink starts first so
// that whatever gets in can get out): they wait here, unacknowledged, and are handled once the
// runner is attached. Commands are handled one at a time, in arrival order (a twin delivery
// finds the first one's record). Once stopped, or past MAX_WAITING, a command is refused: never
// acknowledged, so the broker sends it again on the next session.
import type { MessageProperties } from '../../outputs/uplink/uplink-types.js';

type Handle = (topic: string, payload: Buffer, props: MessageProperties) => Promise<void>;

export interface CommandInbox {
  /** The uplink's listener for <prefix>/cmd/+ (QoS 1): resolves when the message may be acknowledged. */
  deliver(topic: string, payload: Buffer, props: MessageProperties): Promise<void>;
  attach(handle: Handle): void;
  detach(): void;
}

const MAX_WAITING = 1000;

const NOT_NOW = () => Promise.reject(new Error('commands are not being taken now: sent again next session'));

export function createCommandInbox(): CommandInbox {
  let handler: Handle | undefined;
  let open = true;
  let waiting: Array<{ topic: string; payload: Buffer; props: MessageProperties; settle: (p: Promise<void>) => void }> = [];
  let chain: Promise<unknown> = Promise.resolve();
  const run = (h: Handle, topic: string, payload: Buffer, props: MessageProperties): Promise<void> => {
    const p = chain.then(() => h(topic, payload, props));
    chain = p.catch(() => undefined);
    return p;
  };
  return {
    deliver(topic, payload, props) {
      if (!open) return NOT_NOW();
      if (handler) return run(handler, topic, payload, props);
      if (waiting.length >= MAX_WAITING) return NOT_NOW();
      return new Promise<void>((resolve, reject) => waiting.push({ topic, payload, props, settle: (p) => p.then(resolve, reject) }));
    },
    attach(handle) {
      handler = handle;
      const queued = waiting;
      waiting = [];
      for (const w of queued) w.settle(run(handle, w.topic, w.payload, w.props));
    },
    detach() {
      open = false;
      handler = undefined;
      for (const w of waiting) w.settle(NOT_NOW());
      waiting = [];
    },
  };
}
