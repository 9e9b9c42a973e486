/** AMR schedules (docs/amr.md): UTC boundaries; quarterly :00/:15/:30/:45, hourly :00, daily 00:00, weekly Monday 00:00, monthly the 1st, yearly 1 January. */
export function scheduleBoundaries(schedule: string, from: number, to: number): number[] {
  const out: number[] = [];
  const fixed: Record<string, number> = { quarterly: 900_000, hourly: 3_600_000, daily: 86_400_000 };
  if (fixed[schedule]) {
    for (let t = Math.floor(from / fixed[schedule]) * fixed[schedule] + fixed[schedule]; t <= to; t += fixed[schedule]) out.push(t);
    return out;
  }
  const d = new Date(from);
  let t = schedule === 'weekly' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7))
    : schedule === 'monthly' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) : Date.UTC(d.getUTCFullYear(), 0, 1);
  for (let i = 0; t <= to && i < 10_000; i++) {
    if (t > from) out.push(t);
    const n = new Date(t);
    t = schedule === 'weekly' ? t + 7 * 86_400_000 : schedule === 'monthly' ? Date.UTC(n.getUTCFullYear(), n.getUTCMonth() + 1, 1) : Date.UTC(n.getUTCFullYear() + 1, 0, 1);
  }
  return out;
}
