/**
 * Readout lists of real meters, as their manuals and field captures show them (identification,
 * addresses, digits, units): the simulator fills in counters that grow with the simulated load and
 * the meter's clock.
 */

export interface MeterState {
  /** The meter's clock, epoch ms (in the simulator's time zone when formatted). */
  clock: number;
  /** Hours of load since the simulator started (energy = base + power * hours). */
  hours: number;
  serial: string;
}

/** One readout line: address and its values, computed from the state. */
export interface SimDataSet {
  address: string;
  values: (state: MeterState, f: Formatters) => string[];
}

export interface Formatters {
  /** hhmmss / yymmdd of the meter clock. */
  time(): string;
  date(): string;
  /** A counter base + rate * hours, zero-padded to `int` digits with `dec` decimals. */
  counter(base: number, rate: number, int: number, dec: number): string;
}

/** One channel of the meter's load profile 1 (P.01): a counter base + rate * hours, like the readout's. */
export interface SimProfileChannel { obis: string; unit: string; base: number; rate: number; dec: number }

export interface SimMeterProfile {
  id: string;
  description: string;
  /** Identification after "/": XXX, the baud character, the device id. */
  identification: string;
  sets: SimDataSet[];
  /** Channels of load profile 1 (absent: the meter keeps none and refuses R5 P.01). */
  loadProfile?: SimProfileChannel[];
}

const v = (...values: string[]) => () => values;

export const SIM_METERS: SimMeterProfile[] = [
  {
    // Field capture: "/ISk5MT174-0002" ... "1-0:1.8.0*255(0000502.853*kWh)"; mode C up to 9600 baud.
    id: 'iskra-mt174',
    description: 'Iskraemeco MT174 three-phase meter (mode C, 9600 baud, 1-0: addresses with *255)',
    identification: 'ISk5MT174-0001',
    sets: [
      { address: '1-0:0.0.0*255', values: (s) => [s.serial] },
      { address: '1-0:0.9.2*255', values: (_s, f) => [`0${f.date()}`] },
      { address: '1-0:0.9.1*255', values: (_s, f) => [f.time()] },
      { address: '1-0:1.8.0*255', values: (_s, f) => [`${f.counter(502.853, 1.2, 7, 3)}*kWh`] },
      { address: '1-0:1.8.1*255', values: (_s, f) => [`${f.counter(402.112, 0.9, 7, 3)}*kWh`] },
      { address: '1-0:1.8.2*255', values: (_s, f) => [`${f.counter(100.741, 0.3, 7, 3)}*kWh`] },
      { address: '1-0:2.8.0*255', values: v('0098697.318*kWh') },
      { address: '1-0:F.F.0*255', values: v('0000000') },
    ],
    // The MT174 records its energy registers in load profile 1 (register profile, 15 min).
    loadProfile: [
      { obis: '1-0:1.8.0', unit: 'kWh', base: 502.853, rate: 1.2, dec: 3 },
      { obis: '1-0:1.8.1', unit: 'kWh', base: 402.112, rate: 0.9, dec: 3 },
      { obis: '1-0:1.8.2', unit: 'kWh', base: 100.741, rate: 0.3, dec: 3 },
    ],
  },
  {
    // Landis+Gyr ZMD310 industrial meter: "1-1:" addresses, billing period resets 0.1.2*NN,
    // maximum demand with its time stamp, historic values without unit.
    id: 'landis-gyr-zmd310',
    description: 'Landis+Gyr ZMD310 (mode C, 4800 baud, 1-1: addresses, billing periods and maximum demand)',
    identification: 'LGZ4\\2ZMD3104107.B32',
    sets: [
      { address: '1-1:F.F', values: v('00000000') },
      { address: '1-1:0.0.0', values: (s) => [s.serial] },
      { address: '1-1:0.9.1', values: (_s, f) => [f.time()] },
      { address: '1-1:0.9.2', values: (_s, f) => [f.date()] },
      { address: '1-1:0.1.0', values: v('18') },
      { address: '1-1:0.1.2*18', values: v('2610010000') },
      { address: '1-1:0.1.2*17', values: v('2609010000') },
      { address: '1-1:1.6.1', values: v('27.19*kW', '2610090945') },
      { address: '1-1:1.6.1*18', values: v('28.74', '2609121445') },
      { address: '1-1:1.8.0', values: (_s, f) => [`${f.counter(51206, 25, 8, 0)}*kWh`] },
      { address: '1-1:1.8.0*18', values: v('00049555') },
      { address: '1-1:1.8.0*17', values: v('00045862') },
      { address: '1-1:2.8.0', values: v('00000552*kWh') },
      { address: '1-1:3.8.0', values: v('00021664*kvarh') },
      { address: '1-1:32.7.0', values: v('239.9*V') },
      { address: '1-1:52.7.0', values: v('240.8*V') },
      { address: '1-1:72.7.0', values: v('239.9*V') },
      { address: '1-1:31.7.0', values: v('010.69*A') },
    ],
  },
  {
    // ABB AS1440 (Elster A1440 family): short EDIS addresses, historic tariff registers without unit.
    id: 'abb-as1440',
    description: 'ABB/Elster AS1440 (mode C, 9600 baud, EDIS short addresses, historic registers)',
    identification: 'ABB5\\@V9.21',
    sets: [
      { address: 'F.F', values: v('00000000') },
      { address: '0.0.0', values: (s) => [s.serial] },
      { address: '0.1.0', values: v('32') },
      { address: '0.1.2*32', values: v('2611010000') },
      { address: '1.8.1', values: (_s, f) => [`${f.counter(52481.2, 2, 6, 1)}*kWh`] },
      { address: '1.8.1*32', values: v('051967.9') },
      { address: '2.8.1', values: v('033594.7*kWh') },
      { address: '2.8.1*32', values: v('033578.7') },
      { address: '0.9.1', values: (_s, f) => [f.time()] },
      { address: '0.9.2', values: (_s, f) => [f.date()] },
      { address: '32.7.0', values: v('231.9*V') },
      { address: '52.7.0', values: v('232.0*V') },
      { address: '72.7.0', values: v('232.0*V') },
      { address: 'C.6.0', values: v('001987') },
    ],
  },
  {
    // EMH LZQJ-XC style readout list (the manufacturer's table 1), mode B at 9600 baud.
    id: 'emh-lzqj',
    description: 'EMH LZQJ (mode B: the meter switches to 9600 baud after the identification)',
    identification: 'EMHELZQJ-XC 3102',
    sets: [
      { address: 'F.F', values: v('00000000') },
      { address: '0.0.0', values: (s) => [s.serial] },
      { address: '0.9.1', values: (_s, f) => [f.time()] },
      { address: '0.9.2', values: (_s, f) => [f.date()] },
      { address: '1.8.0', values: (_s, f) => [`${f.counter(1281.6601, 0.5, 5, 4)}*kWh`] },
      { address: '1.6.1', values: v('0.50262*kW', '2611120730') },
    ],
  },
];

export function findSimMeter(id: string): SimMeterProfile | undefined {
  return SIM_METERS.find((m) => m.id === id);
}
