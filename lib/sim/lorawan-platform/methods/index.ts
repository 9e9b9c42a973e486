/** The (action, method) table of the platform API. */
import { getAreaOrg, logout, toLogin } from './areas-login';
import { addMeter, getAreaArchiveInfo, getAreaArchives, modifyMeter } from './archives';
import { setValveState, sendCommand, queryCommandResult } from './control';
import { addHousehold, gethousehold, modifyHousehold } from './households';
import { addGateway, addLoraMeter, modifyGateway, readGatewayStatus } from './network';
import { archivesChange, getPaymod, queryPayorders, remotelyTopUp } from './payment';
import { addMeterPrice, modifyMeterPrice, readAllPrices, readAllPricesV2 } from './prices';
import { getMeterReadings, getValverecord, queryMonthBillInfo } from './reports';
import { queryAllDailyConsumption, queryAllMonthlyConsumption, queryRealTimeData, readValveStatus } from './traffic';
import type { MethodEntry } from './types';

export type { Handler, MethodContext, MethodEntry } from './types';

const lorawan: Record<string, MethodEntry> = {
  addGateway: { handler: addGateway }, modifyGateway: { handler: modifyGateway }, readGatewayStatus: { handler: readGatewayStatus },
  addMeter: { handler: addLoraMeter }, queryRealTimeData: { handler: queryRealTimeData },
  queryAllDailyConsumption: { handler: queryAllDailyConsumption }, queryAllMonthlyConsumption: { handler: queryAllMonthlyConsumption },
  readValveStatus: { handler: readValveStatus }, remotelyTopUp: { handler: remotelyTopUp }, getPaymod: { handler: getPaymod },
  queryPayorders: { handler: queryPayorders }, archivesChange: { handler: archivesChange },
};
const meterControl: Record<string, MethodEntry> = {
  setValveState: { handler: setValveState }, sendCommand: { handler: sendCommand }, queryCommandResult: { handler: queryCommandResult },
};

export const METHODS: Record<string, Record<string, MethodEntry>> = {
  comApi: {
    getAreaOrg: { handler: getAreaOrg }, toLogin: { handler: toLogin, open: true }, logout: { handler: logout },
    addMeterPrice: { handler: addMeterPrice }, modifyMeterPrice: { handler: modifyMeterPrice },
    readAllPrices: { handler: readAllPrices }, readAllPricesV2: { handler: readAllPricesV2 },
    addMeter: { handler: addMeter }, modifyMeter: { handler: modifyMeter }, getAreaArchives: { handler: getAreaArchives },
    getAreaArchiveInfo: { handler: getAreaArchiveInfo }, gethousehold: { handler: gethousehold }, addHousehold: { handler: addHousehold },
    modifyHousehold: { handler: modifyHousehold }, getMeterReadings: { handler: getMeterReadings }, getValverecord: { handler: getValverecord },
    queryMonthBillInfo: { handler: queryMonthBillInfo },
  },
  lorawanApi: lorawan,
  lorawanMeterApi: meterControl,
  // Newer deployments (digest §1.2): the same methods under other action names.
  lorawanMeter: { ...lorawan, ...meterControl },
  zlMeter: { ...lorawan, ...meterControl },
};
