/** DLMS/COSEM (IEC 62056-5-3, -6-2, -46, -47): codecs and ciphering; see README.md in this folder. */
export * from './errors';
export * from './security';
export * from './axdr';
export * from './hdlc';
export * from './hdlc-link';
export * from './wrapper';
export * from './units';
export * from './acse';
export * from './xdlms';
export * from './apdu';
export * from './association';
export * from './cosem';
export * from './decode';
