/**
 * Real SML telegrams (test/fixtures/sml, sources in its README) and the values their sources state.
 * Units and values as the sources write them (Wh, W, V, A, °, Hz). `time` is the meter's seconds
 * counter (actSensorTime, or the first entry's valTime when the meter sends no sensor time).
 */
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

export function fixtureBytes(file: string): Buffer {
  return Buffer.from(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'sml', file), 'utf8').replace(/\s/g, ''), 'hex');
}

export interface FixtureFrame { time: number; values: Record<string, [number, string]> }
export interface Fixture {
  file: string;
  meter: string;
  /** Where the expected values were written down from. */
  source: string;
  /** Server id bytes as the source lists them. */
  serverId: number[];
  frames: FixtureFrame[];
  /** Errors the capture holds, in order (a regexp each). */
  errors?: RegExp[];
}

const SMLRS = 'sml-rs tests/snapshots/libsml_testing__app_layer@';
const f = (time: number, values: Record<string, [number, string]>): FixtureFrame => ({ time, values });

export const FIXTURES: Fixture[] = [
  {
    file: 'emh-ehz-gw8e2a500ak2.hex', meter: 'EMH eHZ-GW8E2A500AK2', source: `${SMLRS}EMH_eHZ-GW8E2A500AK2.bin.snap; libsml-testing README (sml_server output)`,
    serverId: [48, 50, 50, 56, 48, 56, 49, 54],
    frames: [
      f(72214509, { '1-0:1.8.1': [14798112.9, 'Wh'], '1-0:1.8.2': [2012.4, 'Wh'], '1-0:1.7.0': [13.8, 'W'] }),
      f(72214512, { '1-0:1.8.1': [14798113.0, 'Wh'], '1-0:1.8.2': [2012.4, 'Wh'], '1-0:1.7.0': [14.7, 'W'] }),
      f(72214517, { '1-0:1.8.1': [14798113.0, 'Wh'], '1-0:1.8.2': [2012.4, 'Wh'], '1-0:1.7.0': [14.9, 'W'] }),
    ],
  },
  {
    file: 'emh-ehz-hw8e2a5l0ek2p.hex', meter: 'EMH eHZ-HW8E2A5L0EK2P', source: `${SMLRS}EMH_eHZ-HW8E2A5L0EK2P.bin.snap`,
    serverId: [6, 69, 77, 72, 1, 2, 113, 83, 200, 198],
    frames: [
      f(116010874, { '1-0:1.8.0': [8391648.8, 'Wh'], '1-0:1.8.1': [8391447.6, 'Wh'], '1-0:1.8.2': [201.2, 'Wh'], '1-0:15.7.0': [163.5, 'W'] }),
      f(116010877, { '1-0:1.8.0': [8391648.9, 'Wh'], '1-0:1.8.1': [8391447.7, 'Wh'], '1-0:1.8.2': [201.2, 'Wh'], '1-0:15.7.0': [163.3, 'W'] }),
    ],
  },
  {
    file: 'iskra-mt175-ehz.hex', meter: 'ISKRA MT175', source: `${SMLRS}ISKRA_MT175_eHZ.bin.snap`,
    serverId: [9, 1, 73, 83, 75, 0, 4, 3, 223, 99],
    frames: [
      f(128972252, { '1-0:1.8.0': [22462413.6, 'Wh'], '1-0:1.8.1': [22462413.6, 'Wh'], '1-0:1.8.2': [0, 'Wh'], '1-0:16.7.0': [168, 'W'], '1-0:36.7.0': [117, 'W'], '1-0:56.7.0': [22, 'W'], '1-0:76.7.0': [29, 'W'] }),
      f(128972254, { '1-0:1.8.0': [22462413.7, 'Wh'], '1-0:1.8.1': [22462413.7, 'Wh'], '1-0:1.8.2': [0, 'Wh'], '1-0:16.7.0': [171, 'W'], '1-0:36.7.0': [119, 'W'], '1-0:56.7.0': [22, 'W'], '1-0:76.7.0': [29, 'W'] }),
    ],
  },
  {
    file: 'iskra-mt691-ehz-ms2020.hex', meter: 'ISKRA MT691', source: `${SMLRS}ISKRA_MT691_eHZ-MS2020.bin.snap`,
    serverId: [10, 1, 73, 83, 75, 0, 4, 50, 94, 197],
    frames: [f(6825875, { '1-0:1.8.0': [198927.3, 'Wh'], '1-0:16.7.0': [26, 'W'] }), f(6825876, { '1-0:1.8.0': [198927.3, 'Wh'], '1-0:16.7.0': [26, 'W'] })],
  },
  {
    file: 'iskra-mt691-short-crc.hex', meter: 'ISKRA MT691 (message CRC sent as one byte)', source: `${SMLRS}ISKRA_MT691_eHZ-MS2020.bin.snap, 11th transmission`,
    serverId: [10, 1, 73, 83, 75, 0, 4, 50, 94, 197],
    frames: [f(6825884, { '1-0:1.8.0': [198927.4, 'Wh'], '1-0:16.7.0': [27, 'W'] })],
  },
  {
    file: 'dzg-dvs-7420-neg.hex', meter: 'DZG DVS-7420.2V.G2 (exporting)', source: `${SMLRS}DZG_DVS-7420.2V.G2_mtr2_neg.bin.snap`,
    serverId: [10, 1, 68, 90, 71, 0, 3, 158, 32, 83],
    frames: [
      f(9513016, { '1-0:1.8.0': [13232.9, 'Wh'], '1-0:2.8.0': [1500321.3, 'Wh'], '1-0:16.7.0': [-105.50, 'W'] }),
      f(9513017, { '1-0:1.8.0': [13232.9, 'Wh'], '1-0:2.8.0': [1500321.4, 'Wh'], '1-0:16.7.0': [-106.78, 'W'] }),
      f(9513018, { '1-0:1.8.0': [13232.9, 'Wh'], '1-0:2.8.0': [1500321.4, 'Wh'], '1-0:16.7.0': [-104.38, 'W'] }),
    ],
    errors: [/offset 756: truncated frame: 200 bytes/],
  },
  {
    file: 'easymeter-q3a.hex', meter: 'EasyMeter Q3A', source: `${SMLRS}EasyMeter_Q3A_A1064V1009.bin.snap`,
    serverId: [9, 1, 69, 83, 89, 17, 3, 181, 153, 165],
    frames: [
      f(16310127, { '1-0:1.8.0': [2941646.1614, 'Wh'], '1-0:2.8.0': [110073.1603, 'Wh'], '1-0:16.7.0': [810.26, 'W'], '1-0:36.7.0': [505.23, 'W'], '1-0:56.7.0': [63.19, 'W'], '1-0:76.7.0': [241.83, 'W'], '1-0:32.7.0': [232.5, 'V'], '1-0:52.7.0': [230.7, 'V'], '1-0:72.7.0': [232.5, 'V'] }),
      f(16310128, { '1-0:1.8.0': [2941646.3734, 'Wh'], '1-0:2.8.0': [110073.1603, 'Wh'], '1-0:16.7.0': [763.08, 'W'], '1-0:36.7.0': [486.22, 'W'], '1-0:56.7.0': [51.67, 'W'], '1-0:76.7.0': [225.18, 'W'], '1-0:32.7.0': [232.4, 'V'], '1-0:52.7.0': [230.6, 'V'], '1-0:72.7.0': [232.2, 'V'] }),
    ],
    // sml-rs: 445 bytes discarded, then a frame with a checksum mismatch (bytes lost in it)
    errors: [/offset 445: CRC error/],
  },
  {
    file: 'holley-dtz541-zdba.hex', meter: 'Holley DTZ541-ZDBA', source: `${SMLRS}HOLLEY_DTZ541-ZDBA.bin.snap`,
    serverId: [10, 1, 72, 76, 89, 2, 0, 3, 169, 16],
    frames: [
      f(1347075, { '1-0:1.8.1': [0, 'Wh'], '1-0:1.8.2': [177360.1, 'Wh'], '1-0:2.8.0': [314926.0, 'Wh'], '1-0:16.7.0': [460, 'W'], '1-0:32.7.0': [232.3, 'V'], '1-0:52.7.0': [232.5, 'V'], '1-0:72.7.0': [232.5, 'V'], '1-0:31.7.0': [1.06, 'A'], '1-0:51.7.0': [1.74, 'A'], '1-0:71.7.0': [0.91, 'A'], '1-0:81.7.1': [120, '°'], '1-0:81.7.2': [240, '°'], '1-0:81.7.4': [298, '°'], '1-0:81.7.15': [312, '°'], '1-0:81.7.26': [288, '°'], '1-0:14.7.0': [50.0, 'Hz'] }),
      f(1347077, { '1-0:1.8.1': [0, 'Wh'], '1-0:1.8.2': [177360.3, 'Wh'], '1-0:2.8.0': [314926.0, 'Wh'], '1-0:16.7.0': [459, 'W'], '1-0:32.7.0': [232.3, 'V'], '1-0:52.7.0': [232.5, 'V'], '1-0:72.7.0': [232.6, 'V'], '1-0:31.7.0': [1.07, 'A'], '1-0:51.7.0': [1.74, 'A'], '1-0:71.7.0': [0.91, 'A'], '1-0:81.7.1': [121, '°'], '1-0:81.7.2': [240, '°'], '1-0:81.7.4': [298, '°'], '1-0:81.7.15': [312, '°'], '1-0:81.7.26': [288, '°'], '1-0:14.7.0': [50.0, 'Hz'] }),
    ],
  },
  {
    file: 'holley-dtz541-bdba.hex', meter: 'Holley DTZ541-BDBA', source: `${SMLRS}HOLLEY_DTZ541-BDBA_without_PIN.bin.snap`,
    serverId: [10, 1, 72, 76, 89, 2, 0, 13, 107, 230],
    frames: [f(23876784, { '1-0:1.8.0': [2324000, 'Wh'] })],
  },
  {
    file: 'itron-openway-3hz.hex', meter: 'Itron OpenWay 3.HZ', source: `${SMLRS}ITRON_OpenWay-3.HZ.bin.snap`,
    serverId: [10, 1, 73, 84, 82, 0, 3, 72, 245, 142],
    frames: [f(53687960, { '1-0:1.8.0': [8189594.9, 'Wh'], '1-0:16.7.0': [613, 'W'] })],
  },
  {
    file: 'drneuhaus-smarty-ix130.hex', meter: 'Dr. Neuhaus SMARTY iX-130', source: `${SMLRS}DrNeuhaus_SMARTY_ix-130.bin.snap`,
    serverId: [9, 1, 68, 78, 84, 1, 0, 0, 32, 48],
    frames: [
      f(1901941417, { '1-0:2.8.0': [4373.0, 'Wh'], '1-0:2.8.1': [4373.0, 'Wh'], '1-0:2.8.2': [0, 'Wh'], '1-0:15.7.0': [0, 'W'] }),
      f(1901941419, { '1-0:2.8.0': [4373.0, 'Wh'], '1-0:2.8.1': [4373.0, 'Wh'], '1-0:2.8.2': [0, 'Wh'], '1-0:15.7.0': [0, 'W'] }),
    ],
  },
];

/** smartmeter-obis's own test telegram (test/testSerialResponseSml.js): what its assertions state. */
export const SMARTMETER_OBIS_EMH = { file: 'smartmeter-obis-emh.hex', energy: { obis: '1-0:1.8.1', value: 15338.5557, unit: 'kWh' }, manufacturer: 'EMH' };
