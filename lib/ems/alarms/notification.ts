/** The AlarmNotification (types.ts) of a stored alarm's transition: what the 'transition' event carries to lib/ems/notify. */
import { EMS_SUBJECT, type Alarm, type AlarmNotification, type AlarmRule, type AlarmTransition } from './types';

export function alarmNotification(a: Alarm, transition: AlarmTransition, folderPath: string[], notify: AlarmRule['notify']): AlarmNotification {
  return {
    alarmId: String(a.id), rule: a.rule_name, severity: a.severity, state: a.state,
    meterId: a.meter_id ?? EMS_SUBJECT.meterId, meterName: a.meter_id ? a.meter_name ?? a.meter_id : EMS_SUBJECT.meterName,
    folderPath, since: a.raised_at, at: a.last_change,
    ...(a.value !== null ? { value: a.value } : {}), ...(a.limit !== null ? { limit: a.limit } : {}), ...(a.unit ? { unit: a.unit } : {}),
    ...(transition === 'acknowledged' ? { by: a.acked_by ?? undefined, ...(a.ack_note ? { note: a.ack_note } : {}) } : {}),
    transition, ruleId: a.rule_id, folderId: a.folder_id, message: a.message, raiseCount: a.raise_count, notify,
  };
}

/** Folder names from the root down to `folderId` (at most 100 levels); `folder` answers one folder or throws. */
export function folderNames(folderId: string | null, folder: (id: string) => { name: string; parent_id: string | null }): string[] {
  const names: string[] = [];
  for (let id = folderId, n = 0; id && n < 100; n++) {
    try { const f = folder(id); names.unshift(f.name); id = f.parent_id; } catch { break; }
  }
  return names;
}
