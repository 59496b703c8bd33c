/**
 * Lists every field where an older, hand-kept schema refused a value that the
 * generated one lets through: a `minimum`, `maximum`, `pattern`, integer type,
 * `minItems` or `maxItems` the old schema had at a property path and the new
 * one lacks there. Paths are followed through `$ref`, `anyOf`, `oneOf` and
 * `allOf`, so `run.samples[].fds` means the same field whichever way each
 * schema names its definitions; a constraint counts as kept only when every
 * branch of the new schema that can carry the field carries it.
 *
 *   node --import tsx scripts/schema-constraints.ts [OLD [NEW]]
 *
 * OLD defaults to the hand-kept schema of b60fbc3 (read with git show), NEW to
 * schema/run-document.schema.json. Exits 1 when a constraint is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Node = { [key: string]: unknown };

/** The last commit whose schema was kept by hand. */
const HAND_KEPT = 'b60fbc3';
const CONSTRAINTS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'pattern', 'integer', 'minItems', 'maxItems', 'minLength'] as const;
type Constraint = (typeof CONSTRAINTS)[number];

const isNode = (value: unknown): value is Node => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The value types a node admits, or null when it names none (a bare constraint or a combinator). */
function types(node: Node): string[] | null {
  if (typeof node.type === 'string') return [node.type];
  if (Array.isArray(node.type)) return node.type as string[];
  return null;
}

/** Is `now` at least as strict as `before` for constraint `c`? */
function asStrict(c: Constraint, now: unknown, before: unknown): boolean {
  if (typeof now !== 'number' || typeof before !== 'number') return now === before;
  return c.startsWith('min') || c === 'exclusiveMinimum' ? now >= before : now <= before;
}

/** Does `node`, a leaf schema, carry `c` as strictly as `was` (or make it moot: a const, an enum, or a type it cannot apply to)? */
function carries(node: Node, c: Constraint, was: unknown): boolean {
  if ('const' in node || 'enum' in node) return true;
  const t = types(node);
  if (c === 'integer') return t !== null && !t.includes('number');
  const appliesTo = c === 'pattern' || c === 'minLength' ? 'string' : c === 'minItems' || c === 'maxItems' ? 'array' : 'number';
  if (t !== null && !t.includes(appliesTo) && !(appliesTo === 'number' && t.includes('integer'))) return true;
  return c in node && asStrict(c, node[c], was);
}

/** Which constraints a leaf schema states. */
function stated(node: Node): Constraint[] {
  const t = types(node) ?? [];
  return CONSTRAINTS.filter((c) => (c === 'integer' ? t.includes('integer') : c in node));
}

/** Every leaf schema reachable at each property path, from the root's document kinds. */
export function leaves(schema: Node): Map<string, Node[]> {
  const defs = (schema.$defs ?? {}) as Record<string, Node>;
  const out = new Map<string, Node[]>();
  const walk = (node: Node, path: string, seen: readonly string[]): void => {
    if (typeof node.$ref === 'string') {
      const name = node.$ref.replace('#/$defs/', '');
      if (seen.includes(name)) return;
      const target = defs[name];
      if (target) walk(target, path, [...seen, name]);
      return;
    }
    // `{ not: {} }`: the field must be absent in this branch, so nothing is let through.
    if (isNode(node.not) && Object.keys(node.not).length === 0) return;
    for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(node[key])) for (const inner of node[key] as Node[]) walk(inner, path, seen);
    if (isNode(node.properties)) for (const [name, inner] of Object.entries(node.properties)) walk(inner as Node, `${path}.${name}`, seen);
    if (isNode(node.additionalProperties)) walk(node.additionalProperties, `${path}.*`, seen);
    if (isNode(node.items)) walk(node.items, `${path}[]`, seen);
    if (isNode(node.propertyNames)) walk({ type: 'string', ...node.propertyNames }, `${path}.<key>`, seen);
    if (types(node) !== null || stated(node).length > 0) out.set(path, [...(out.get(path) ?? []), node]);
  };
  for (const kind of ['run', 'compare']) if (defs[kind]) walk(defs[kind], kind, [kind]);
  return out;
}

/** Every constraint of `old` missing from `current`, as `path: constraint` (or `path: field gone`). */
export function missingConstraints(old: Node, current: Node): string[] {
  const before = leaves(old);
  const after = leaves(current);
  const missing: string[] = [];
  for (const [path, nodes] of before) {
    // What the old schema asked at this path, with the value it asked (the loosest, where branches differ).
    const wanted = new Map<Constraint, unknown>();
    for (const node of nodes) for (const c of stated(node)) if (!wanted.has(c) || asStrict(c, wanted.get(c), node[c])) wanted.set(c, node[c]);
    if (wanted.size === 0) continue;
    const now = after.get(path);
    if (!now) {
      missing.push(`${path}: field gone (had ${[...wanted.keys()].join(', ')})`);
      continue;
    }
    for (const [c, was] of wanted) if (!now.every((node) => carries(node, c, was))) missing.push(`${path}: ${c}${was === undefined ? '' : ` ${JSON.stringify(was)}`}`);
  }
  return missing;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [oldFile, newFile] = process.argv.slice(2);
  const oldText = oldFile ? readFileSync(oldFile, 'utf8') : execFileSync('git', ['show', `${HAND_KEPT}:schema/run-document.schema.json`], { encoding: 'utf8' });
  const newText = readFileSync(newFile ?? fileURLToPath(new URL('../schema/run-document.schema.json', import.meta.url)), 'utf8');
  const missing = missingConstraints(JSON.parse(oldText) as Node, JSON.parse(newText) as Node);
  process.stdout.write(missing.length === 0 ? 'every constraint of the old schema is in the new one\n' : `${missing.join('\n')}\n`);
  process.exit(missing.length === 0 ? 0 : 1);
}
