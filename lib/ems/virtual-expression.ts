/**
 * The expression of a virtual meter: parsed by jsep to a tree (never evaluated as code) and reduced to a
 * weighted sum of meters, e.g. `main - hvac - lighting` = 1·main − 1·hvac − 1·lighting, `0.5 * (a + b)` =
 * 0.5·a + 0.5·b.
 *
 * Syntax: numbers, meter references, + - * /, unary minus and parentheses. A meter is referenced by its id
 * (ids never change; renaming a meter changes its name only). An id that is an identifier (letters, digits
 * and _, not starting with a digit) may be written bare; any id may be written in braces: `{main-1} - {hvac.2}`.
 * Anything else (calls, members `a.b`, strings, `?:`, comparisons, `$`) is refused naming the token and
 * its position (0-based character index).
 *
 * Linear only: a product needs a number on one side and a quotient a number below the line, and a constant
 * term (`main - 5`) is refused: the consumption of a virtual meter in a window is then the same weighted sum
 * of its meters' consumptions, the windows add up to their union, and its register is the weighted sum of
 * theirs. min/max/abs are not offered: they are not linear, so a day would not be the sum of its hours.
 */
import jsep from 'jsep';
import { ApiError } from './envelope';

/** Longest expression text. */
export const MAX_EXPRESSION_LENGTH = 1000;
/** Most tree nodes (numbers, references, operators). */
export const MAX_EXPRESSION_NODES = 200;
/** Most distinct meters one expression references. */
export const MAX_EXPRESSION_METERS = 32;

/** One meter of the weighted sum. */
export interface Term { meter: string; coefficient: number }

export interface VirtualExpression {
  /** The text as given (trimmed). */
  text: string;
  /** The weighted sum, one term per distinct meter in order of first appearance. */
  terms: Term[];
}

/** An id written in braces. */
const BRACED = /\{([^{}]*)\}/g;
const METER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

interface Linear { coef: Map<string, number>; constant: number }

function refuse(text: string, message: string): never {
  throw new ApiError(400, `expression ${JSON.stringify(text)}: ${message}`);
}

/**
 * Parses and reduces an expression; throws 400 naming the offending token and its position. Meter
 * existence is not checked here (see virtual-meters.ts).
 */
export function parseVirtualExpression(input: unknown): VirtualExpression {
  if (typeof input !== 'string') throw new ApiError(400, `expression ${JSON.stringify(input)} must be a string such as "main - hvac"`);
  const text = input.trim();
  if (text === '') throw new ApiError(400, 'expression must not be empty for a virtual meter (e.g. "main - hvac")');
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ApiError(400, `expression "${text.slice(0, 40)}..." is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const dollar = text.indexOf('$');
  if (dollar >= 0) refuse(text, `"$" at position ${dollar} is not allowed (meter ids are letters, digits and . _ -; write {id} for ids that are not identifiers)`);
  // Braced ids become placeholders of the same length ($0__), so jsep's error positions stay those of the text.
  const braced: { id: string; at: number }[] = [];
  const source = text.replace(BRACED, (whole: string, id: string, at: number) => {
    if (!METER_ID.test(id)) refuse(text, `{${id}} at position ${at} is not a meter id (1-64 letters, digits or . _ -)`);
    const placeholder = `$${braced.length}`;
    if (placeholder.length > whole.length) refuse(text, `more than ${MAX_EXPRESSION_METERS} braced references`);
    braced.push({ id, at });
    return placeholder.padEnd(whole.length, '_');
  });
  const brace = source.search(/[{}]/);
  if (brace >= 0) refuse(text, `unmatched "${source[brace]}" at position ${brace} (write a meter id as {id})`);
  let tree: jsep.Expression;
  try {
    tree = jsep(source);
  } catch (err) {
    const e = err as Error & { index?: number; description?: string };
    refuse(text, `${e.description ?? e.message} at position ${e.index ?? 0}`);
  }
  let nodes = 0;
  const positionOf = (token: string): number => {
    const re = new RegExp(`(^|[^A-Za-z0-9_$])${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    const m = re.exec(source);
    return m ? m.index + m[1].length : 0;
  };
  const meterOf = (name: string): string => {
    const b = /^\$(\d+)_*$/.exec(name);
    return b ? braced[Number(b[1])].id : name;
  };
  const reduce = (node: jsep.Expression): Linear => {
    if (++nodes > MAX_EXPRESSION_NODES) refuse(text, `more than ${MAX_EXPRESSION_NODES} numbers, meters and operators`);
    switch (node.type) {
      case 'Literal': {
        const lit = node as jsep.Literal;
        if (typeof lit.value !== 'number' || !Number.isFinite(lit.value)) refuse(text, `${lit.raw} at position ${positionOf(lit.raw)} is not allowed (numbers and meter ids only)`);
        return { coef: new Map(), constant: lit.value };
      }
      case 'Identifier': {
        const name = (node as jsep.Identifier).name;
        const id = meterOf(name);
        if (!METER_ID.test(id)) refuse(text, `"${id}" at position ${positionOf(name)} is not a meter id (1-64 letters, digits or . _ -)`);
        return { coef: new Map([[id, 1]]), constant: 0 };
      }
      case 'UnaryExpression': {
        const u = node as jsep.UnaryExpression;
        if (u.operator !== '-' && u.operator !== '+') refuse(text, `operator "${u.operator}" at position ${source.indexOf(u.operator)} is not allowed (use + - * /)`);
        const arg = reduce(u.argument);
        return u.operator === '-' ? scale(arg, -1) : arg;
      }
      case 'BinaryExpression': {
        const b = node as jsep.BinaryExpression;
        if (!['+', '-', '*', '/'].includes(b.operator)) refuse(text, `operator "${b.operator}" at position ${source.indexOf(b.operator)} is not allowed (use + - * /)`);
        const left = reduce(b.left);
        const right = reduce(b.right);
        if (b.operator === '+') return add(left, right, 1);
        if (b.operator === '-') return add(left, right, -1);
        if (b.operator === '*') {
          if (left.coef.size && right.coef.size) refuse(text, `"*" at position ${operatorAt(source, '*', left, right)} multiplies meters by meters (${[...left.coef.keys()][0]} * ${[...right.coef.keys()][0]}); a consumption may only be multiplied by a number`);
          return left.coef.size ? scale(left, right.constant) : scale(right, left.constant);
        }
        if (right.coef.size) refuse(text, `"/" at position ${operatorAt(source, '/', left, right)} divides by a meter (${[...right.coef.keys()][0]}); a consumption may only be divided by a number`);
        if (right.constant === 0) refuse(text, `"/" at position ${operatorAt(source, '/', left, right)} divides by zero`);
        return scale(left, 1 / right.constant);
      }
      case 'CallExpression': {
        const callee = (node as jsep.CallExpression).callee;
        const name = callee.type === 'Identifier' ? (callee as jsep.Identifier).name : '(...)';
        refuse(text, `call ${name}(...) at position ${positionOf(name)} is not allowed (no functions: numbers, meter ids, + - * / and parentheses)`);
      }
      // falls through (refuse throws)
      case 'MemberExpression': {
        const member = memberText(node);
        refuse(text, `${member} at position ${positionOf(member.split(/[.[]/)[0])} is not allowed: write an id with dots or dashes in braces, {${member}}`);
      }
      // falls through (refuse throws)
      case 'Compound': {
        const second = (node as jsep.Compound).body[1];
        const token = second?.type === 'Identifier' ? (second as jsep.Identifier).name : second?.type === 'Literal' ? String((second as jsep.Literal).raw) : '';
        const at = token ? positionOf(token) : Math.max(0, source.search(/[,;]/));
        refuse(text, `a second expression at position ${at} is not allowed (join meters with + - * /)`);
      }
      // falls through (refuse throws)
      default: {
        const kinds: Record<string, string> = { Compound: 'several expressions (a "," or ";" list)', SequenceExpression: 'a "," list', ConditionalExpression: 'a "?:" condition', ArrayExpression: 'an array', ThisExpression: '"this"' };
        refuse(text, `${kinds[node.type] ?? node.type} is not allowed (numbers, meter ids, + - * / and parentheses)`);
      }
    }
  };
  const sum = reduce(tree);
  if (sum.constant !== 0) refuse(text, `the constant term ${sum.constant} would add the same amount to every window; a virtual meter is a weighted sum of meters only (an id with - or . is written in braces: {main-1})`);
  if (sum.coef.size === 0) refuse(text, 'references no meter');
  if (sum.coef.size > MAX_EXPRESSION_METERS) refuse(text, `references ${sum.coef.size} meters, more than ${MAX_EXPRESSION_METERS}`);
  for (const [, c] of sum.coef) if (!Number.isFinite(c)) refuse(text, 'a coefficient is not a finite number');
  return { text, terms: [...sum.coef].map(([meter, coefficient]) => ({ meter, coefficient })) };
}

function scale(a: Linear, k: number): Linear {
  return { coef: new Map([...a.coef].map(([m, c]) => [m, c * k])), constant: a.constant * k };
}

function add(a: Linear, b: Linear, sign: 1 | -1): Linear {
  const coef = new Map(a.coef);
  for (const [m, c] of b.coef) coef.set(m, (coef.get(m) ?? 0) + sign * c);
  return { coef, constant: a.constant + sign * b.constant };
}

/** The position of an operator between two meter terms (the first occurrence after the left side's first meter). */
function operatorAt(source: string, op: string, left: Linear, _right: Linear): number {
  const first = [...left.coef.keys()][0];
  const from = first ? Math.max(0, source.indexOf(first)) : 0;
  const i = source.indexOf(op, from);
  return i >= 0 ? i : source.indexOf(op);
}

function memberText(node: jsep.Expression): string {
  if (node.type === 'Identifier') return (node as jsep.Identifier).name;
  if (node.type === 'MemberExpression') {
    const m = node as jsep.MemberExpression;
    const prop = m.property.type === 'Identifier' ? (m.property as jsep.Identifier).name : m.property.type === 'Literal' ? String((m.property as jsep.Literal).raw) : '...';
    return m.computed ? `${memberText(m.object)}[${prop}]` : `${memberText(m.object)}.${prop}`;
  }
  return '...';
}
