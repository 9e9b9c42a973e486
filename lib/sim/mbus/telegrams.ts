/**
 * Real RSP_UD telegrams the simulator serves, as captured from real meters and published with
 * libmbus's test suite (github.com/rscada/libmbus, test/test-frames/<file>.hex; the matching .xml
 * there is libmbus's own decoding). The simulator patches the first energy or volume record so the
 * counter advances, the identification number and primary address, and recomputes the checksum.
 */
export interface TelegramSample {
  /** Short name used by the simulator options, e.g. "slb-cf-integral". */
  name: string;
  description: string;
  /** Where the bytes come from. */
  source: string;
  hex: string;
  /** Raw counts of the first energy/volume record added per hour of simulated time. */
  perHour: number;
}

export const TELEGRAMS: readonly TelegramSample[] = [
  {
    name: 'slb-cf-integral',
    description: 'heat meter, Sontex/Itron SLB CF Compact Integral MK MaXX: energy 8-digit BCD kWh (0C 06)',
    source: 'rscada/libmbus test/test-frames/SLB_CF-Compact-Integral-MK-MaXX.hex',
    hex: '68 5C 5C 68 08 04 72 14 73 81 11 82 4D 06 04 03 00 00 00 0C 78 14 73 81 11 0C 06 00 00 00 00 0C 14 02 00 00 00 0A 3B 00 00 0B 5A 18 02 00 0B 5E 20 02 00 0B 61 18 00 F0 32 26 00 00 02 27 98 04 04 6D 02 0E CD 13 84 40 14 7B 00 00 00 84 80 40 14 41 01 00 00 09 FD 0E 03 09 FD 0F 18 0F 00 16 DB 16',
    perHour: 12,
  },
  {
    name: 'els-f96-plus',
    description: 'heat meter, Elster F96 Plus: energy 8-digit BCD kWh (0C 06)',
    source: 'rscada/libmbus test/test-frames/ELS_Elster-F96-Plus.hex',
    hex: '68 68 68 68 08 00 72 51 39 49 44 93 15 2F 04 A1 70 00 00 0C 06 00 00 00 00 8C 10 06 00 00 00 00 8C 20 13 00 00 00 00 0C 13 00 00 00 00 3C 2B BD EB DD DD 3B 3B BD EB DD 0A 5A 27 02 0A 5E 26 02 0A 62 01 00 0A 27 30 07 04 6D 09 0D CD 13 4C 06 00 00 00 00 4C 13 00 00 00 00 CC 10 06 00 00 00 00 CC 20 13 00 00 00 00 42 6C BF 15 40 16',
    perHour: 8,
  },
  {
    name: 'efe-waterstar',
    description: 'hot water meter, Engelmann WaterStar: volume 32-bit integer litres (04 13)',
    source: 'rscada/libmbus test/test-frames/EFE_Engelmann-WaterStar.hex',
    hex: '68 51 51 68 08 0B 72 54 02 99 04 C5 14 00 06 0C 27 00 00 04 78 2E 25 4C 00 04 6D 0A 0C CD 13 04 13 4C 01 00 00 44 13 4B 01 00 00 84 01 13 4C 01 00 00 42 6C BF 1C 02 6C DF 1C 04 3B 00 00 00 00 14 3B 16 08 00 00 02 23 A7 04 01 FD 17 00 04 90 28 08 00 00 00 3F 16',
    perHour: 40,
  },
  {
    name: 'emu-professional',
    description: 'electricity meter, EMU Professional 375: energy tariff 1, 32-bit integer Wh (84 10 03)',
    source: 'rscada/libmbus test/test-frames/EMU_EMU-Professional-375-M-Bus.hex',
    hex: '68 F4 F4 68 08 00 72 29 26 03 00 B5 15 10 02 02 00 00 00 0C 78 29 26 03 00 84 10 03 54 05 00 00 84 20 03 00 00 00 00 84 90 40 03 AE 1E 00 00 84 A0 40 03 00 00 00 00 04 AB FF 01 FE FF FF FF 04 AB FF 02 00 00 00 00 04 AB FF 03 00 00 00 00 04 2B FE FF FF FF 84 80 40 AB FF 01 0E 00 00 00 84 80 40 AB FF 02 00 00 00 00 84 80 40 AB FF 03 00 00 00 00 84 80 40 2B 0E 00 00 00 02 FD C8 FF 01 D1 08 02 FD C8 FF 02 00 00 02 FD C8 FF 03 00 00 22 FD C8 FF 01 52 07 22 FD C8 FF 02 00 00 22 FD C8 FF 03 00 00 12 FD C8 FF 01 6A 09 12 FD C8 FF 02 00 00 12 FD C8 FF 03 00 00 03 FD D9 FF 01 BE FF FF 03 FD D9 FF 02 00 00 00 03 FD D9 FF 03 00 00 00 03 FD 59 BE FF FF 01 FF E1 FF 01 0D 01 FF E1 FF 02 00 01 FF E1 FF 03 00 02 FF 52 F4 01 02 FD 60 38 00 01 FD 17 00 74 16',
    perHour: 500,
  },
];

export function findTelegram(name: string): TelegramSample | undefined {
  return TELEGRAMS.find((t) => t.name === name);
}
