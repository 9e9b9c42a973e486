/** LoRaWAN uplinks from network servers (ChirpStack v4, The Things Stack v3) and raw PHYPayloads -> Readings. */
export * from './phy';
export * from './events';
export * from './codecs';
export * from './uplink';
export * from './devices';
