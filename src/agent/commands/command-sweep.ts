// Commands an earlier run recorded but never finished (a stop or a crash while they ran) are
// answered failed at start and never run again. Apart from the runner: it needs no command
// schema, so a start does not load one (the runner is loaded at the first command).
import { unfinishedCommands } from '../../store/command-records.js';
import type { Database } from '../../store/sqlite.js';
import type { Logger } from '../../ops/logger.js';
import type { ReplyWriter } from './command-reply.js';

export async function answerInterrupted(d: { db: Database; replies: ReplyWriter; continuing: readonly string[]; clock: () => number; log: Logger }): Promise<void> {
  const continuing = new Set(d.continuing);
  for (const c of await unfinishedCommands(d.db)) {
    if (continuing.has(c.id)) continue;
    d.log.warn({ id: c.id, name: c.name }, 'command interrupted by a stop or crash: answered failed, not run again');
    await d.replies.write(
      { id: c.id, name: c.name, keepUntil: c.keep_until },
      { sensor: 'cmd-result', props: null },
      { status: 'failed', error: 'interrupted: the agent stopped while it ran; not run again', ts: new Date(d.clock()).toISOString() },
      { record: 'final' },
    );
  }
}
