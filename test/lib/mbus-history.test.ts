// M-Bus historic values (storage numbers > 0 with their own dates) read for a backfill: application reset 0x30,
// multi-telegram readout with FCB toggling while more records follow, extraction of the span.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MbusMaster } from '../../lib/protocols/mbus/master';
import { TcpTransport } from '../../lib/protocols/mbus/transport';
import { decodeTelegram, telegramToReadings } from '../../lib/protocols/mbus';
import { MbusSimulator, findTelegram } from '../../lib/sim/mbus';
import { HISTORY_FIRST_STORAGE, encodeTypeI, storageDif } from '../../lib/sim/mbus/slave';
import { decodeTypeI } from '../../lib/protocols/mbus/dates';
import { Quality } from '../../lib/model/quality';
import { backfillAnswer } from '../../lib/model/backfill-span';

describe('M-Bus historic values for a backfill', () => {
  let sim: MbusSimulator;
  let master: MbusMaster;
  const started = Date.now();
  before(async () => {
    sim = new MbusSimulator({ slaves: [
      { primary: 5, sample: findTelegram('slb-cf-integral')!, id: '11223344', history: { periodSeconds: 1, count: 25 } },
      { primary: 6, sample: findTelegram('emu-professional')!, history: { periodSeconds: 1, count: 4 }, split: true },
    ], speed: 3600 });
    const port = await sim.listen(0);
    master = new MbusMaster(new TcpTransport({ kind: 'tcp', host: '127.0.0.1', port }), { timeout: 300, retries: 1 });
  });
  after(async () => {
    await master.close();
    await sim.close();
  });

  it('encodes storage numbers in DIF and DIFEs and type I dates the decoder reads back', () => {
    assert.deepEqual(storageDif(0x0c, [], 1), [0x4c]);
    assert.deepEqual(storageDif(0x0c, [], 32), [0x8c, 0x80, 0x01]);
    assert.deepEqual(storageDif(0x04, [0x10], 33), [0xc4, 0x90, 0x01]);
    const t = Date.UTC(2026, 11, 7, 18, 4, 33);
    assert.equal(decodeTypeI(Buffer.from(encodeTypeI(t))).time, t);
  });

  it('a plain read holds current values only; after the application reset the meter sends its history in further telegrams', async () => {
    sim.slaves[0].fault = 'silent'; // the meter keeps its history while it does not answer
    await new Promise((r) => setTimeout(r, 2300));
    sim.slaves[0].fault = 'none';
    const plain = await master.read({ primary: 5 });
    assert.equal(plain.telegrams.length, 1);
    assert.ok(plain.telegram.records.every((r) => r.storage < HISTORY_FIRST_STORAGE));
    const full = await master.read({ primary: 5 }, { applicationReset: 0x30, maxTelegrams: 64 });
    const times = sim.slaves[0].historyTimes().length;
    assert.ok(times >= 2, `${times} history periods`);
    assert.equal(full.telegrams.length, 1 + Math.ceil(times / 10));
    assert.ok(full.telegrams.slice(0, -1).every((t) => t.moreRecordsFollow) && !full.telegrams[full.telegrams.length - 1].moreRecordsFollow);
    const to = Date.now();
    const readings = telegramToReadings(full.telegram, { meter: 'heat', time: to, energyUnit: 'kWh' });
    const historic = readings.filter((r) => r.obis === '6-0:1.0.0' && ((r.quality ?? 0) & Quality.HISTORIC));
    const { readings: span } = backfillAnswer(historic, { from: started, to });
    assert.ok(span.length >= 2, JSON.stringify(span));
    assert.ok(span.every((r, i) => r.time % 1000 === 0 && (i === 0 || (r.time - span[i - 1].time === 1000 && r.value >= span[i - 1].value))), JSON.stringify(span.map((r) => [r.time, r.value])));
    assert.ok(span.every((r) => r.quality === (Quality.HISTORIC | Quality.BACKFILLED) && r.unit === 'kWh'));
    // 12 counts (kWh) per simulated hour = per real second at speed 3600.
    assert.equal(span[1].value - span[0].value, 12);
    assert.equal(sim.slaves[0].stats.historyReads, 1);
    // A bound on telegrams holds.
    const cut = await master.read({ primary: 5 }, { applicationReset: 0x30, maxTelegrams: 2 });
    assert.equal(cut.telegrams.length, 2);
  });

  it('a split telegram with history: current records in two telegrams, then the history (tariff bits kept)', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const full = await master.read({ primary: 6 }, { applicationReset: 0x30 });
    assert.equal(full.telegrams.length, 3);
    const hist = full.telegram.records.filter((r) => r.storage >= HISTORY_FIRST_STORAGE && r.quantity === 'energy');
    assert.ok(hist.length >= 1 && hist.every((r) => r.tariff === 1), JSON.stringify(hist.map((r) => [r.storage, r.tariff])));
    assert.equal(decodeTelegram(full.frames[2]).records.length, full.telegrams[2].records.length);
  });
});
