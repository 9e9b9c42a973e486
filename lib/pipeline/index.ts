/** Processing stages between meters and stores/calculators: pure logic, no Node-RED. */
export * from './consumption';
