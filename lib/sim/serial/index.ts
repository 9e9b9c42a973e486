export { charMs, checkBaud, describeLine, lineBits, parseLine, type LineSettings, type Parity } from './line';
export { monotonic, runAt, type Clock } from './clock';
export { PacedLine, rtuSilences, type LinePort, type PacedLineOptions, type WireSpan } from './paced-line';
export { openLinePort, openPtyPair, type PtyPair } from './port';
export { ModbusRtuSerial, type RtuSerialOptions } from './modbus-rtu';
export { MbusSerial, latestAnswerMs, type MbusSerialOptions } from './mbus';
