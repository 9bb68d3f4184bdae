/**
 * A validator for the subset of JSON Schema (draft 7) that `certops.schema.json`
 * uses, so the schema VS Code shows and the check the CLI runs are one source.
 * It reports the first problem with its JSON path (`$.hosts[0].ssh.port`).
 */

/** The schema keywords understood here; anything else in a schema is ignored as annotation. */
export interface Schema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: Schema;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  anyOf?: Schema[];
  oneOf?: Schema[];
  definitions?: Record<string, Schema>;
  description?: string;
}

/** The first problem found: where, and what. */
export interface SchemaProblem {
  jsonPath: string;
  message: string;
}

/** Appends a property to a JSON path, bracket-quoting names that are not identifiers. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Validates `value` against `root`; returns the first problem, or undefined when valid. */
export function validateAgainst(root: Schema, value: unknown, path = '$'): SchemaProblem | undefined {
  return check(root, root, value, path);
}

function resolve(root: Schema, s: Schema): Schema {
  let cur = s;
  for (let i = 0; cur.$ref && i < 16; i++) {
    const m = /^#\/definitions\/(.+)$/.exec(cur.$ref);
    const target = m ? root.definitions?.[m[1]] : undefined;
    if (!target) throw new Error(`schema: unresolved $ref ${cur.$ref}`);
    // A $ref beside annotations (description): the target decides.
    cur = target;
  }
  return cur;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const ARTICLE: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false' };

function describeRange(s: Schema): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return ` ${s.minimum}-${s.maximum}`;
  if (s.minimum !== undefined) return ` >= ${s.minimum}`;
  if (s.maximum !== undefined) return ` <= ${s.maximum}`;
  return '';
}

function check(root: Schema, schema: Schema, v: unknown, path: string): SchemaProblem | undefined {
  const s = resolve(root, schema);
  const fail = (message: string): SchemaProblem => ({ jsonPath: path, message });
  if (s.anyOf) {
    const results = s.anyOf.map((alt) => check(root, alt, v, path));
    if (results.some((r) => r === undefined)) return undefined;
    // The alternative of the value's own type explains the problem best.
    const sameType = s.anyOf.findIndex((alt) => resolve(root, alt).type === typeOf(v));
    if (sameType >= 0) return results[sameType];
    return fail(`must be ${s.anyOf.map((a) => ARTICLE[resolve(root, a).type ?? ''] ?? 'valid').join(' or ')}`);
  }
  if (s.oneOf) {
    // Discriminated by a `const` property (`kind`): report against the matching branch.
    const disc = discriminator(root, s.oneOf);
    if (disc && typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const kinds = s.oneOf.map((b) => resolve(root, b).properties?.[disc]?.const);
      const i = kinds.indexOf(obj[disc]);
      if (i < 0) {
        return obj[disc] === undefined
          ? fail(`"${disc}" is required (one of ${kinds.map(String).join(', ')})`)
          : { jsonPath: childPath(path, disc), message: `must be one of ${kinds.map(String).join(', ')}` };
      }
      return check(root, s.oneOf[i], v, path);
    }
    const ok = s.oneOf.filter((alt) => check(root, alt, v, path) === undefined).length;
    return ok === 1 ? undefined : fail(ok === 0 ? 'matches none of the allowed forms' : 'is ambiguous');
  }
  if (s.const !== undefined && v !== s.const) return fail(`must be ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(v)) return fail(`must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  const t = typeOf(v);
  if (s.type) {
    const ok = s.type === t || (s.type === 'number' && t === 'integer');
    if (!ok) return fail(`must be ${ARTICLE[s.type]}${s.type === 'integer' || s.type === 'number' ? describeRange(s) : ''}`);
  }
  if (t === 'integer' || t === 'number') {
    const n = v as number;
    if ((s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum)) return fail(`must be ${ARTICLE[s.type ?? 'number']}${describeRange(s)}`);
  }
  if (t === 'string') {
    const str = v as string;
    if (s.minLength !== undefined && str.length < s.minLength) return fail(s.minLength === 1 ? 'must not be empty' : `must have at least ${s.minLength} characters`);
    if (s.maxLength !== undefined && str.length > s.maxLength) return fail(`must have at most ${s.maxLength} characters`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(str)) return fail(s.pattern === '^/' ? 'must be an absolute path' : `does not have the expected form${s.description ? ` (${s.description})` : ''}`);
  }
  if (t === 'array') {
    const arr = v as unknown[];
    if (s.maxItems !== undefined && arr.length > s.maxItems) return fail(`must have at most ${s.maxItems} entries`);
    if (s.items) {
      for (let i = 0; i < arr.length; i++) {
        const p = check(root, s.items, arr[i], childPath(path, i));
        if (p) return p;
      }
    }
  }
  if (t === 'object') {
    const obj = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!Object.hasOwn(obj, r)) return fail(`"${r}" is required`);
    for (const [k, val] of Object.entries(obj)) {
      const ps = s.properties?.[k];
      if (!ps) {
        if (s.additionalProperties === false) return { jsonPath: childPath(path, k), message: 'is not a known property' };
        continue;
      }
      const p = check(root, ps, val, childPath(path, k));
      if (p) return p;
    }
  }
  return undefined;
}

function discriminator(root: Schema, branches: Schema[]): string | undefined {
  const first = resolve(root, branches[0]).properties ?? {};
  return Object.keys(first).find((k) => first[k].const !== undefined && branches.every((b) => resolve(root, b).properties?.[k]?.const !== undefined));
}
