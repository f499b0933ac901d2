import { describe, expect, it } from 'vitest';
import { createJournalBatch, decodeJournalBatch, type JournalEntryView } from '../../src/store/journal-codec.js';

describe('journal batch codec', () => {
  it('round-trips readings, ticks and clock jumps in order, across growth and reuse', () => {
    const w = createJournalBatch(4);
    const decode = (buf: Buffer) => {
      const out: JournalEntryView[] = [];
      decodeJournalBatch(buf, (e) => out.push({ ...e }));
      return out;
    };
    for (let i = 0; i < 10; i++) w.reading(`s/${i % 3}`, 1_795_428_000_000 + i, i * 1.5, 1_795_428_000_100 + i, i === 7);
    w.tick(1_795_428_001_000);
    w.shift(-30_000, 1_795_428_001_500);
    expect([w.count, w.firstReceived, w.lastReceived]).toEqual([12, 1_795_428_000_100, 1_795_428_001_500]);
    const buf = w.take();
    expect(buf.length).toBe(8 + JSON.stringify(['s/0', 's/1', 's/2']).length + 12 * 29);
    const got = decode(buf);
    expect(got[3]).toEqual({ sensor: 's/0', shift: false, availability: false, ts: 1_795_428_000_003, value: 4.5, receivedAt: 1_795_428_000_103, late: false });
    expect(got[7]!.late).toBe(true);
    expect(got[10]).toMatchObject({ sensor: null, shift: false, ts: 1_795_428_001_000 });
    expect(got[11]).toMatchObject({ sensor: null, shift: true, value: -30_000 });
    expect(w.count).toBe(0);
    w.reading('other', 1, 2, 3, false);
    expect(decode(w.take())).toEqual([{ sensor: 'other', shift: false, availability: false, ts: 1, value: 2, receivedAt: 3, late: false }]);
  });

  it('round-trips availability reports beside readings of the same name', () => {
    const w = createJournalBatch(2);
    w.reading('zigbee/Küche Fenster/contact', 10, 1, 11, false);
    w.availability('zigbee/Küche Fenster', false, 20);
    w.availability('esphome/kitchen', true, 30);
    const got: JournalEntryView[] = [];
    decodeJournalBatch(w.take(), (e) => got.push({ ...e }));
    expect(got).toEqual([
      { sensor: 'zigbee/Küche Fenster/contact', shift: false, availability: false, ts: 10, value: 1, receivedAt: 11, late: false },
      { sensor: 'zigbee/Küche Fenster', shift: false, availability: true, ts: 20, value: 0, receivedAt: 20, late: false },
      { sensor: 'esphome/kitchen', shift: false, availability: true, ts: 30, value: 1, receivedAt: 30, late: false },
    ]);
  });
});
