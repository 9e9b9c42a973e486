/**
 * The shipped EMS (flows/ems.json, what `npm start` runs) as the package's importable examples: "EMS - complete"
 * (poll schedule, protocol routing, store, API tab: only this package's nodes and Node-RED's core nodes) and the
 * dashboard tab on its own, for Node-REDs that have Dashboard 2.0 (@flowfuse/node-red-dashboard) installed.
 * `node scripts/ems-examples.js` writes both; a test fails when they differ from flows/ems.json.
 */
export type FlowNode = Record<string, unknown> & { id: string; type: string };

export const DASHBOARD_TAB = 'ems-dash-tab';
export const COMPLETE_EXAMPLE = 'EMS - complete';
export const DASHBOARD_EXAMPLE = 'EMS - dashboard tab (Dashboard 2.0, after EMS - complete)';

/** A node of the dashboard tab: the tab, its nodes and Dashboard 2.0 config nodes (all ids start with "dash-"). */
export function isDashboardNode(n: FlowNode): boolean {
  return n.id === DASHBOARD_TAB || n.z === DASHBOARD_TAB || n.id.startsWith('dash-');
}

/** The two examples made from the shipped flows; every node lands in exactly one. */
export function shippedExamples(flows: readonly FlowNode[]): { complete: FlowNode[]; dashboard: FlowNode[] } {
  return { complete: flows.filter((n) => !isDashboardNode(n)), dashboard: flows.filter(isDashboardNode) };
}
