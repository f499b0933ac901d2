// Where a new database's ids start. Ids are `<device>:<seq>` and consumers dedupe by them, so
// no id that was ever sent may be used again, even when the database is lost (salvage of a
// damaged file, `rm`, a reflashed SD card). Nothing on the device survives a reflash but the
// clock, so a new database's first seq is the wall clock in microseconds: an earlier database
// of this device, created at T1, has used at most T1 * 1000 + (ids it made since T1), which is
// below now * 1000 as long as it made fewer than 1,000,000 ids a second on average (the outbox
// takes about 240,000 a second flat out) and the clock was not set back. Safe integers last to
// the year 2255 at this scale. The clock is never taken below this build's date.
import type { Executor } from './sqlite.js';

/** Room above any seed for the ids a database may use (2^40: a million a second for 12 days... of years). */
export const SEQ_ROOM = 2 ** 40;
/** No seed above this, whatever the clock says: ids stay safe integers. */
const MAX_SEED = Number.MAX_SAFE_INTEGER - SEQ_ROOM;

/** First seq of a database created at `nowMs` (epoch ms); `floorMs`: this build's date. */
export function seqSeed(nowMs: number, floorMs: number): number {
  return Math.min(MAX_SEED, Math.floor(Math.max(nowMs, floorMs)) * 1000);
}

/**
 * Whether `seq` can be an id a database of this device really used, given the seed a new one
 * would get now: salvage reads ids out of damaged bytes (dead-letter payloads included), and
 * one absurd candidate must not push the counter past the safe integers.
 */
export function plausibleSeq(seq: number, seedNow: number): boolean {
  return Number.isSafeInteger(seq) && seq > 0 && seq <= seedNow + SEQ_ROOM;
}

/** Records the seed as the counter and as `seq_seed` (health shows it: a jump to it is a new database, not loss). */
export async function seedCounterTx(tx: Executor, seed: number): Promise<void> {
  await tx.run("UPDATE meta SET value = ? WHERE key = 'next_seq'", [seed]);
  await tx.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq_seed', ?)", [seed]);
}

/** The first seq of this database (its seed), or 1 for one made before seeds existed. */
export async function readSeqSeed(db: Executor): Promise<number> {
  return (await db.get<{ value: number }>("SELECT value FROM meta WHERE key = 'seq_seed'"))?.value ?? 1;
}
