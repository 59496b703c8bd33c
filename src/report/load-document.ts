/**
 * Reads a saved run document (`repro report FILE`, `--baseline FILE`) and
 * checks it against the published JSON Schema, so a wrong or hand-edited file
 * is one clear line naming the file and the first field that is off.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { UsageError } from '../errors.js';
import { visibleLine } from './text.js';
import { withMeasurements } from '../kinds/index.js';
import { convertV1, type V1Compare, type V1Run } from '../model/convert-v1.js';
import { type ReproDocument, SCHEMA_VERSION } from '../model/run-document.js';

/** The schema of each version this repro reads: the current one, and version 1 (converted on load). */
const SCHEMA_PATHS: Record<number, URL> = {
  1: new URL('../../schema/run-document-v1.schema.json', import.meta.url),
  [SCHEMA_VERSION]: new URL('../../schema/run-document.schema.json', import.meta.url),
};

type Validator = ReturnType<Ajv2020['compile']>;
type SchemaError = NonNullable<Validator['errors']>[number];

const KINDS = ['run', 'compare'] as const;
const validators = new Map<number, Record<(typeof KINDS)[number], Validator>>();

/** One compiled validator per document kind, from the schema of `version` (formats are checked by its patterns). */
function documentValidators(version: number): Record<(typeof KINDS)[number], Validator> {
  let forVersion = validators.get(version);
  if (!forVersion) {
    const ajv = new Ajv2020({ allErrors: false, strict: true, validateFormats: false });
    ajv.addSchema(JSON.parse(readFileSync(SCHEMA_PATHS[version] as URL, 'utf8')) as object, 'run-document');
    const at = (kind: string) => ajv.getSchema(`run-document#/$defs/${kind}`) as Validator;
    forVersion = { run: at('run'), compare: at('compare') };
    validators.set(version, forVersion);
  }
  return forVersion;
}

/** What a JSON value is, for a file that is not a run document at all. */
function whatItIs(value: unknown): string | null {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value !== 'object') return `a JSON ${typeof value}`;
  const o = value as Record<string, unknown>;
  if (o.kind === 'probe') return 'a `repro probe --json` snapshot';
  if (o.kind === undefined && 'growthPerMinute' in o && 'pid' in o) return 'a `repro probe --watch --json` summary';
  return null;
}

/** The most telling of ajv's errors: a oneOf reports each branch, and the deepest path is the field that is off. */
function firstWrongField(errors: readonly SchemaError[]): string {
  let best: SchemaError | undefined;
  for (const e of errors) if (!best || e.instancePath.length > best.instancePath.length) best = e;
  if (!best) return 'it does not match the schema';
  const params = best.params as Record<string, unknown>;
  const detail =
    best.keyword === 'additionalProperties'
      ? `must not have the property '${String(params.additionalProperty)}'`
      : best.keyword === 'enum'
        ? `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
        : best.keyword === 'const'
          ? `must be ${JSON.stringify(params.allowedValue)}`
          : (best.message ?? 'is invalid');
  return `${best.instancePath || '(top level)'}: ${detail}`;
}

const FIX = 'name a file written by repro --out or --json';

/** Why `value` is not a run document and what to do, or null when it is one: the kind of thing it is, then the first field that is wrong. */
function documentProblem(value: unknown): { why: string; fix: string } | null {
  const foreign = whatItIs(value);
  if (foreign) return { why: `this is ${foreign}, not a run document`, fix: FIX };
  const o = value as Record<string, unknown>;
  if (o.kind === undefined) return { why: 'not a run document: it has no "kind" (run or compare)', fix: FIX };
  if (!KINDS.includes(o.kind as (typeof KINDS)[number])) return { why: `not a run document: kind ${JSON.stringify(o.kind)} is not run or compare`, fix: FIX };
  const kind = o.kind as (typeof KINDS)[number];
  const version = o.schemaVersion === undefined ? SCHEMA_VERSION : o.schemaVersion;
  if (typeof version !== 'number' || !Object.hasOwn(SCHEMA_PATHS, version)) {
    return { why: `schemaVersion ${JSON.stringify(o.schemaVersion)} is not one this repro reads (1 or ${SCHEMA_VERSION})`, fix: 're-run it with this version' };
  }
  const validate = documentValidators(version)[kind];
  if (validate(value)) return null;
  return { why: `not a valid ${kind} document: ${firstWrongField(validate.errors ?? [])}`, fix: FIX };
}

/**
 * Largest document read. One repro writes keeps at most 10 000 samples a run
 * (about 3 KiB each with a watched tree's processes) and 64 KiB of output a
 * stream, so its documents stay far below; past this, `/dev/zero` or a huge
 * file would only grow the heap until the machine runs out.
 */
export const MAX_DOCUMENT_BYTES = 128 * 1024 * 1024;
/** Deepest nesting read: repro's own documents are 9 levels deep; a 200 000-deep event would overflow the stack of every view and of JSON.stringify. */
export const MAX_DOCUMENT_DEPTH = 64;
const READ_CHUNK_BYTES = 1024 * 1024;

/** A usage error about the document: what it names of the file (a key, a path) is shown as text, never as terminal escapes. */
function refusal(message: string): UsageError {
  return new UsageError(visibleLine(message));
}

function tooLarge(flag: string, path: string): UsageError {
  return refusal(`${flag} ${path}: larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB, the most a run document may be; ${FIX}`);
}

function openError(flag: string, path: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code);
  return refusal(`${flag} ${path}: cannot read (${why}); ${FIX}`);
}

/** One read, waiting out EAGAIN (a non-blocking stdin) instead of failing. */
function readSome(fd: number, buffer: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** The file's text, read in chunks and refused past MAX_DOCUMENT_BYTES (a regular file by its size, before anything is read). */
function readBounded(path: string, flag: string): string {
  let fd: number;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
  } catch (error) {
    throw openError(flag, path, error);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw openError(flag, path, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
    if (stats.isFile() && stats.size > MAX_DOCUMENT_BYTES) throw tooLarge(flag, path);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      const n = readSome(fd, chunk);
      if (n === 0) break;
      total += n;
      if (total > MAX_DOCUMENT_BYTES) throw tooLarge(flag, path);
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw openError(flag, path, error);
  } finally {
    if (path !== '-') closeSync(fd);
  }
}

/** Where the value nests deeper than MAX_DOCUMENT_DEPTH (its first few steps), or null; walked without recursion, so any depth is safe to look at. */
function tooDeep(value: unknown): string | null {
  const stack: { value: unknown; depth: number; at: string }[] = [{ value, depth: 0, at: '' }];
  while (stack.length > 0) {
    const { value: v, depth, at } = stack.pop() as (typeof stack)[number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_DOCUMENT_DEPTH) return at;
    for (const [key, child] of Object.entries(v)) stack.push({ value: child, depth: depth + 1, at: depth < 4 ? `${at}/${key}` : at });
  }
  return null;
}

/** Reads and checks a saved run document; every way it can be wrong is a usage error naming the file and what to give instead. */
export function loadDocument(path: string, flag: string): ReproDocument {
  const text = readBounded(path, flag);
  if (text.trim() === '') throw refusal(`${flag} ${path}: ${path === '-' ? 'stdin' : 'the file'} is empty; ${FIX}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw refusal(`${flag} ${path}: not JSON; ${FIX}`);
  }
  const deep = tooDeep(value);
  if (deep !== null) throw refusal(`${flag} ${path}: nested deeper than ${MAX_DOCUMENT_DEPTH} levels (under ${deep || 'the top level'}), more than any run document; ${FIX}`);
  const problem = documentProblem(value);
  if (problem) throw refusal(`${flag} ${path}: ${problem.why}; ${problem.fix}`);
  const saved = (value as { schemaVersion: number }).schemaVersion === 1 ? convertV1(value as V1Run | V1Compare) : (value as ReproDocument);
  // Older documents name no measurement: their fields say which kind they are.
  const doc = withMeasurements(saved);
  const undescribed = undescribedMetric(doc);
  if (undescribed) throw refusal(`${flag} ${path}: not a valid ${doc.kind} document: ${undescribed}; ${FIX}`);
  return doc;
}

/** The first sample metric a run does not describe in its `metrics` list (each run carries its scenario's part of the schema). */
function undescribedMetric(doc: ReproDocument): string | null {
  const runs = doc.kind === 'compare' ? doc.runs.map((r, i) => [`/runs/${i}`, r] as const) : [['', doc] as const];
  for (const [at, run] of runs) {
    const ids = new Set(run.metrics.map((m) => m.id));
    for (const [i, sample] of run.samples.entries()) {
      const key = Object.keys(sample.metrics ?? {}).find((k) => !ids.has(k));
      if (key !== undefined) return `${at}/samples/${i}/metrics/${key} is not one of the run's metrics (${[...ids].join(', ') || 'none'})`;
    }
  }
  return null;
}
