/**
 * What the spec does not say about each resource, as data: which fields reference which collection,
 * how a row belongs to an organization, unique fields and the query filters that are not plain
 * field matches. Everything else (paths, methods, bodies, ids, filters) comes from the spec.
 */
export type OrgScope = 'field' | 'meter' | 'self' | 'membership' | 'none';

export interface ResourceInfo {
  /** Collection path without trailing slash, as in spec.ts Route.collection. */
  collection: string;
  /** Field -> collection the uuid (or uuid list) must name. */
  refs: Record<string, string>;
  org: OrgScope;
  unique?: { field: string; message: string }[];
  /** Query filters mapped onto another field (e.g. meter_name -> meter.name). */
  filterPaths?: Record<string, string>;
  /** Default list order. */
  orderBy?: string;
}

const ORG = '/organizations';
const M = '/metering';

export const RESOURCES: ResourceInfo[] = [
  { collection: `${M}/meter-devices`, org: 'field',
    refs: { organization: ORG, type: `${M}/meter-device-types`, task_groups: `${M}/amr-task-groups`, meter_tasks: `${M}/amr-tasks`, network_interface: `${M}/network-interfaces` },
    unique: [{ field: 'name', message: 'meter device with this Unique name or identification already exists.' }] },
  { collection: `${M}/network-interfaces`, org: 'field', refs: { organization: ORG, sim: `${M}/sim-cards` } },
  { collection: `${M}/sim-cards`, org: 'field', refs: { organization: ORG } },
  { collection: `${M}/meter-device-types`, org: 'field', refs: { organization: ORG, config: `${M}/meter-device-configs` } },
  { collection: `${M}/meter-device-configs`, org: 'field', refs: { organization: ORG, series: `${M}/meter-reading-series` } },
  { collection: `${M}/meter-reading-series`, org: 'field', refs: { organization: ORG } },
  { collection: `${M}/meter-readings`, org: 'field', refs: { organization: ORG, meter_device: `${M}/meter-devices`, series: `${M}/meter-reading-series` },
    filterPaths: { meter_id: 'meter_device', series_id: 'series' }, orderBy: 'timestamp' },
  { collection: `${M}/staged-meter-readings`, org: 'none', refs: {}, orderBy: 'timestamp' },
  { collection: `${M}/meter-system-events`, org: 'field', refs: { organization: ORG, meter_device: `${M}/meter-devices` }, orderBy: 'timestamp' },
  { collection: `${M}/meter-security-keys`, org: 'meter', refs: { meter: `${M}/meter-devices` },
    filterPaths: { meter_name: 'meter.name', meter_external_system_reference: 'meter.external_system_reference',
      meter_manufacturer_serial: 'meter.manufacturer_serial', meter_dlms_system_title: 'meter.dlms_system_title',
      meter_dlms_logical_device_name: 'meter.dlms_logical_device_name' } },
  { collection: `${M}/amr-task-groups`, org: 'field', refs: { organization: ORG, tasks: `${M}/amr-tasks` } },
  { collection: `${M}/amr-tasks`, org: 'field', refs: { organization: ORG } },
  { collection: `${ORG}/memberships`, org: 'membership', refs: { organization: ORG, user: 'users' } },
  { collection: ORG, org: 'self', refs: {} },
];

export function resourceInfo(collection: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.collection === collection);
}

/** The task calls each execution environment knows (docs/execution_environments). */
export const TASK_CALLS: Record<string, string[]> = {
  generic_lis200: ['read_single_value', 'read_archive_by_date', 'read_archive_by_offset_seconds', 'set_time'],
  generic_corus_meter: ['read_parameters', 'read_database', 'read_database_by_offset_seconds', 'set_time'],
  generic_iec6205621: ['read_single_value', 'read_data', 'set_time'],
};

/** Schedule periods in seconds (UTC boundaries; monthly/yearly use calendar boundaries). */
export const SCHEDULES = ['quarterly', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
