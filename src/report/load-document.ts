/**
 * Reads a saved run document (`repro report FILE`, `--baseline FILE`) and
 * checks it against the published JSON Schema, so a wrong or hand-edited file
 * is one clear line naming the file and the first field that is off.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { UsageError } from '../errors.js';
import { convertV1, type V1Compare, type V1Run } from '../model/convert-v1.js';
import { type ReproDocument, SCHEMA_VERSION } from '../model/run-document.js';

const SCHEMA_PATHS: Record<number, URL> = {
  1: new URL('../../schema/run-document-v1.schema.json', import.meta.url),
  [SCHEMA_VERSION]: new URL('../../schema/run-document.schema.json', import.meta.url),
};

const validators = new Map<number, ReturnType<Ajv2020['compile']>>();

/** The compiled schema validator of a version (formats are checked by the schema's patterns). */
function documentValidator(version: number): ReturnType<Ajv2020['compile']> {
  let validator = validators.get(version);
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: false, strict: true, validateFormats: false });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATHS[version] as URL, 'utf8')) as object);
    validators.set(version, validator);
  }
  return validator;
}

/** Why `value` is not a run document of `version`, or null when it is one. */
function documentProblem(value: unknown, version: number): string | null {
  const validate = documentValidator(version);
  if (validate(value)) return null;
  // oneOf reports the failure of each branch; the one for the document's own kind is the useful one.
  const kind = (value as { kind?: unknown } | null)?.kind;
  const branch = kind === 'compare' ? '/$defs/compare' : '/$defs/run';
  const errors = validate.errors ?? [];
  const error = errors.find((e) => e.schemaPath.includes(branch)) ?? errors[0];
  if (!error) return 'it does not match the schema';
  return `${error.instancePath || '(top level)'} ${error.message ?? 'is invalid'}`;
}

export function loadDocument(path: string, flag: string): ReproDocument {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new UsageError(`${flag} ${path}: cannot read (${why}); name a file written by repro --out or --json`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag} ${path}: not JSON; name a file written by repro --out or --json`);
  }
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof value !== 'object' || value === null || version === undefined) {
    throw new UsageError(`${flag} ${path}: not a repro run document (no schemaVersion); name a file written by repro --out or --json`);
  }
  if (version !== SCHEMA_VERSION && version !== 1) {
    throw new UsageError(`${flag} ${path}: schemaVersion ${JSON.stringify(version)} is not one this repro reads (1 or ${SCHEMA_VERSION}); re-run it with this version`);
  }
  const problem = documentProblem(value, version);
  if (problem) throw new UsageError(`${flag} ${path}: not a valid run document: ${problem}`);
  const doc = version === 1 ? convertV1(value as V1Run | V1Compare) : (value as ReproDocument);
  const undescribed = undescribedMetric(doc);
  if (undescribed) throw new UsageError(`${flag} ${path}: not a valid run document: ${undescribed}`);
  return doc;
}

/** The first sample metric a run does not describe in its `metrics` list (each run's own schema fragment). */
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
