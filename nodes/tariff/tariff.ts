import type { Node, NodeAPI, NodeDef } from 'node-red';
import { describeTariff, formatTariffDescription, TariffValidationError, validateTariff, type TariffDescription } from '../../lib/tariff';
import type { Tariff } from '../../lib/tariff/types';

export interface TariffDef extends NodeDef {
  /** The tariff as JSON text (the format of lib/tariff/types.ts). */
  tariff: string;
}

/**
 * What user nodes (ems-price, ems-bill, ems-prepaid) see of an ems-tariff config node: the validated
 * tariff, or why there is none (`problem`, a message naming the field).
 */
export interface TariffConfigNode extends Node {
  tariff: Tariff | undefined;
  problem: string | undefined;
}

export interface Problem {
  field: string;
  message: string;
}

export interface TariffCheck {
  ok: boolean;
  problems: Problem[];
  tariff?: Tariff;
  description?: TariffDescription;
  /** The description as plain text. */
  text?: string;
}

/** Parses (when given text) and validates a tariff; never throws. */
export function checkTariff(input: unknown): TariffCheck {
  let value = input;
  if (typeof input === 'string') {
    if (input.trim() === '') return { ok: false, problems: [{ field: 'tariff', message: 'is empty: paste a tariff JSON or load an example' }] };
    try {
      value = JSON.parse(input);
    } catch (err) {
      return { ok: false, problems: [{ field: 'tariff', message: `is not valid JSON: ${(err as Error).message}` }] };
    }
  }
  try {
    const tariff = validateTariff(value);
    const description = describeTariff(tariff);
    return { ok: true, problems: [], tariff, description, text: formatTariffDescription(description) };
  } catch (err) {
    if (err instanceof TariffValidationError) return { ok: false, problems: err.problems.map((p) => ({ field: p.field, message: p.message })) };
    return { ok: false, problems: [{ field: 'tariff', message: (err as Error).message }] };
  }
}

/** "versions[0].energy[1].rate: must be a decimal string (and 2 more problems)" */
export function problemsText(problems: Problem[]): string {
  if (problems.length === 0) return '';
  const first = `${problems[0].field}: ${problems[0].message}`;
  return problems.length > 1 ? `${first} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : first;
}

export default function init(RED: NodeAPI): void {
  function EmsTariff(this: TariffConfigNode, def: TariffDef): void {
    RED.nodes.createNode(this, def);
    const check = checkTariff(def.tariff ?? '');
    this.tariff = check.tariff;
    if (check.ok) {
      this.problem = undefined;
    } else {
      const text = `ems-tariff${def.name ? ` "${def.name}"` : ''}: invalid tariff: ${problemsText(check.problems)}`;
      this.error(`${text}${check.problems.length > 1 ? `\n${check.problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}` : ''}`);
      this.problem = text;
    }
  }
  RED.nodes.registerType('ems-tariff', EmsTariff as unknown as (this: Node, def: NodeDef) => void);

  RED.httpAdmin.post('/ems-tariff/validate', RED.auth.needsPermission('ems-tariff.read'), (req, res) => {
    const body = (req.body ?? {}) as { tariff?: unknown };
    const check = checkTariff(body.tariff ?? '');
    res.json({ ok: check.ok, problems: check.problems, description: check.description ?? null, text: check.text ?? '' });
  });
}
