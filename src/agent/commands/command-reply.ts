// Writing a command's reply: a row in the outbox (kind 'reply', priority lane, its own seq and
// message id) on the requester's response topic under the device prefix, with the correlation
// data echoed (MQTT 5), else on <prefix>/cmd-result; the command's record is updated in the
// same transaction, so a redelivery is answered with what was sent.
import type { GroupCommit } from '../../store/group-commit-types.js';
import type { CommandStatus } from '../../wire/command-wire.js';

/** Where a reply goes: its topic under the prefix and its MQTT 5 properties (JSON) or null. */
export interface ReplyRoute {
  sensor: string;
  props: string | null;
}

export interface ReplyBody {
  status: CommandStatus;
  result?: unknown;
  error?: string;
  ts: string;
}

export interface CommandRef {
  id: string;
  name: string;
  keepUntil: number;
}

const MAX_CORRELATION_BYTES = 1024;
const MAX_TOPIC_BYTES = 512;

/**
 * The route for a command that arrived with these MQTT 5 properties. A response topic is used
 * when it lies under `<prefix>/cmd-result` (a device may publish under its prefix only, in any
 * sane broker ACL); any other is answered on `<prefix>/cmd-result`, where the fleet listens.
 */
export function replyRoute(prefix: string, props: { responseTopic?: string; correlationData?: Buffer }): ReplyRoute {
  const base = `${prefix}/cmd-result`;
  const t = props.responseTopic;
  const ok = t !== undefined && Buffer.byteLength(t) <= MAX_TOPIC_BYTES && !/[+#\0]/.test(t) && (t === base || t.startsWith(`${base}/`));
  const cd = props.correlationData;
  return {
    sensor: (ok ? t : base).slice(prefix.length + 1),
    props: cd && cd.length > 0 && cd.length <= MAX_CORRELATION_BYTES ? JSON.stringify({ correlationData: cd.toString('base64') }) : null,
  };
}

export interface ReplyWriter {
  /**
   * Queues a reply and resolves once it is durable. `record`: 'accepted' or 'final' updates the
   * command's record with it; undefined leaves the record alone (a duplicate, a refusal).
   */
  write(cmd: CommandRef, route: ReplyRoute, body: ReplyBody, o?: { record?: 'accepted' | 'final'; duplicate?: boolean }): Promise<void>;
}

export function createReplyWriter(writer: GroupCommit, device: string, clock: () => number, count: (status: string) => void): ReplyWriter {
  return {
    async write(cmd, route, body, o = {}) {
      const stored = JSON.stringify(body);
      writer.writeOutside(
        {
          kind: 'reply',
          sensor: route.sensor,
          render: (seq) => ({
            payload: JSON.stringify({ v: 1, id: cmd.id, msgId: `${device}:${seq}`, device, name: cmd.name, ...body, ...(o.duplicate && { duplicate: true }) }),
            props: route.props,
          }),
          ...(o.record && { command: { id: cmd.id, name: cmd.name, keepUntil: cmd.keepUntil, state: o.record, reply: stored } }),
        },
        clock(),
      );
      count(o.duplicate ? 'duplicate' : body.status);
      await writer.durable();
    },
  };
}
