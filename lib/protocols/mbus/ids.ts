/** 8 BCD digits, LSB first (or MSB first), as printed on the meter; non-decimal digits stay visible as hex. */
export function idDigits(b: Uint8Array, o: number, msbFirst = false): string {
  let s = '';
  for (let k = 0; k < 4; k++) s += b[o + (msbFirst ? k : 3 - k)].toString(16).padStart(2, '0');
  return s.toUpperCase();
}
