// Virtual meter expressions: jsep tree reduced to a weighted sum of meters; everything else refused with token and position.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EXPRESSION_LENGTH, MAX_EXPRESSION_METERS, MAX_EXPRESSION_NODES, parseVirtualExpression } from '../../lib/ems/virtual-expression';
import { ApiError } from '../../lib/ems/envelope';

const terms = (text: string) => Object.fromEntries(parseVirtualExpression(text).terms.map((t) => [t.meter, t.coefficient]));

/** Asserts a 400 whose message contains every fragment. */
function refused(text: unknown, ...fragments: string[]): void {
  assert.throws(() => parseVirtualExpression(text), (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, 400);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

describe('virtual meter expressions', () => {
  it('reduces sums, differences and scaling to coefficients, with the usual precedence', () => {
    assert.deepEqual(terms('main - hvac - lighting'), { main: 1, hvac: -1, lighting: -1 });
    assert.deepEqual(terms('0.5 * (a + b)'), { a: 0.5, b: 0.5 });
    assert.deepEqual(terms('a - b * 2'), { a: 1, b: -2 }); // * before -
    assert.deepEqual(terms('(a - b) * 2'), { a: 2, b: -2 });
    assert.deepEqual(terms('a - (b - c)'), { a: 1, b: -1, c: 1 });
    assert.deepEqual(terms('a - b - c'), { a: 1, b: -1, c: -1 }); // left-assoc
    assert.deepEqual(terms('-a + 3 * b / 4'), { a: -1, b: 0.75 });
    assert.deepEqual(terms('a / 4 * 2'), { a: 0.5 });
    assert.deepEqual(terms('a + a - 2 * a / 4'), { a: 1.5 });
    assert.deepEqual(terms('2 * 3 * a'), { a: 6 });
  });

  it('takes ids that are not identifiers in braces, and keeps the order of first appearance', () => {
    assert.deepEqual(parseVirtualExpression('{main-1} - {hvac.2} - lighting_3').terms, [
      { meter: 'main-1', coefficient: 1 }, { meter: 'hvac.2', coefficient: -1 }, { meter: 'lighting_3', coefficient: -1 },
    ]);
    assert.deepEqual(terms('{7b} + {a}'), { '7b': 1, a: 1 });
    assert.equal(parseVirtualExpression('  a+b ').text, 'a+b');
  });

  it('treats constructor and __proto__ as plain meter ids, never as object members', () => {
    assert.deepEqual(parseVirtualExpression('constructor - __proto__').terms, [{ meter: 'constructor', coefficient: 1 }, { meter: '__proto__', coefficient: -1 }]);
    assert.deepEqual(parseVirtualExpression('{__proto__} + toString').terms, [{ meter: '__proto__', coefficient: 1 }, { meter: 'toString', coefficient: 1 }]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses calls, members, strings, booleans, comparisons and other operators, naming the token and position', () => {
    refused('max(a, b)', 'call max(...)', 'position 0');
    refused('a + abs(b)', 'call abs(...)', 'position 4');
    refused('main.a - b', 'main.a', 'position 0', '{main.a}');
    refused('a + b.constructor', 'b.constructor', 'position 4');
    refused('a["x"]', 'a[');
    refused('a.__proto__.polluted', '__proto__');
    refused('a + "b"', '"b" at position 4');
    refused("a - 'x'", "'x' at position 4");
    refused('a + true', 'true at position 4');
    refused('a * null', 'null');
    refused('a > b', 'operator ">"', 'position 2');
    refused('a % 2', 'operator "%"', 'position 2');
    refused('!a', 'operator "!"', 'position 0');
    refused('a ? b : c', '"?:"');
    refused('this + a', '"this"');
    refused('[a, b]', 'array');
    refused('a, b', 'second expression at position 3');
  });

  it('refuses syntax errors with the position jsep reports', () => {
    refused('a +', 'position 3');
    refused('(a - b', 'position');
    refused('a b', 'second expression at position 2');
    refused('{main-1', 'unmatched "{" at position 0');
    refused('a - {b c}', '{b c} at position 4');
    refused('a + $0', '"$" at position 4');
  });

  it('refuses what is not a weighted sum of meters', () => {
    refused('a * b', 'multiplies meters by meters', 'a * b');
    refused('a / b', 'divides by a meter (b)');
    refused('a / (2 - 2)', 'divides by zero');
    refused('main - 5', 'constant term -5', '{main-1}');
    refused('main-1', 'constant term -1', 'braces');
    refused('1 + 2', 'constant term 3');
  });

  it('keeps cancelled coefficients (the meter still has to have data)', () => {
    assert.deepEqual(terms('a - a + b'), { a: 0, b: 1 });
  });

  it('bounds length, nodes and meters', () => {
    refused('a'.repeat(MAX_EXPRESSION_LENGTH + 1), `longer than ${MAX_EXPRESSION_LENGTH}`);
    refused(Array.from({ length: MAX_EXPRESSION_NODES }, () => '1').join('+') + '+a', `more than ${MAX_EXPRESSION_NODES}`);
    refused(Array.from({ length: MAX_EXPRESSION_METERS + 1 }, (_, i) => `m${i}`).join('+'), `references ${MAX_EXPRESSION_METERS + 1} meters`);
    assert.equal(parseVirtualExpression(Array.from({ length: MAX_EXPRESSION_METERS }, (_, i) => `{m-${i}}`).join('+')).terms.length, MAX_EXPRESSION_METERS);
    refused('', 'must not be empty');
    refused(42, 'must be a string');
  });
});
