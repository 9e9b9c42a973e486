export type ModbusErrorCode = 'timeout' | 'exception' | 'connection' | 'backoff' | 'queue-full' | 'closed';

const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function', 2: 'illegal data address', 3: 'illegal data value', 4: 'server device failure',
  5: 'acknowledge', 6: 'server device busy', 8: 'memory parity error',
  10: 'gateway path unavailable', 11: 'gateway target device failed to respond',
};

export function exceptionText(code: number): string {
  return EXCEPTIONS[code] ?? 'unknown exception';
}

/** A failed Modbus request; `code` says why, so callers can tell a dead unit from a refused address. */
export class ModbusError extends Error {
  constructor(readonly code: ModbusErrorCode, message: string, readonly exceptionCode?: number) {
    super(message);
    this.name = 'ModbusError';
  }
}
