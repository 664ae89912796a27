/**
 * Reading the normalized compose model the way compose runs it: which services a set of profiles
 * selects (compose's rule: a service without profiles always runs, a profiled one when one of its
 * profiles is active, and a selected service may depend only on selected ones), which app a
 * service runs, its environment and its bind mounts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ComposeModel, type ComposeService, REPO_ROOT } from './compose-cli.js';

/** The apps the sample image runs, by the directory of their entry point. */
export const SAMPLE_APPS = ['order-service', 'payment-service', 'notification-service'] as const;
export type SampleApp = (typeof SAMPLE_APPS)[number];

/** `COMPOSE_PROFILES` of the repository's .env: the profiles of a plain `docker compose up`. */
export function defaultProfiles(): string[] {
  const text = readFileSync(join(REPO_ROOT, '.env'), 'utf8');
  const line = text.split('\n').find((l) => /^\s*COMPOSE_PROFILES\s*=/.test(l));
  if (line === undefined) return [];
  return line
    .slice(line.indexOf('=') + 1)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

function enabled(service: ComposeService, profiles: readonly string[]): boolean {
  const own = service.profiles ?? [];
  return own.length === 0 || own.some((p) => profiles.includes(p));
}

/** The services `docker compose [--profile …] up` starts, by name. */
export function selectedServices(
  model: ComposeModel,
  profiles: readonly string[],
): Map<string, ComposeService> {
  return new Map(Object.entries(model.services).filter(([, s]) => enabled(s, profiles)));
}

/** Dependencies of selected services that the profiles leave out (compose refuses to start those). */
export function missingDependencies(selected: ReadonlyMap<string, ComposeService>): string[] {
  const missing: string[] = [];
  for (const [name, service] of selected) {
    for (const dep of Object.keys(service.depends_on ?? {})) {
      if (!selected.has(dep)) missing.push(`${name} → ${dep}`);
    }
  }
  return missing;
}

/** The command as a list (the model keeps a string command as written). */
export function commandOf(service: ComposeService): string[] {
  const command = service.command;
  if (command === undefined) return [];
  return typeof command === 'string' ? command.split(/\s+/).filter((w) => w !== '') : [...command];
}

/** `node dist/apps/<app>/src/main.js` → `<app>`; undefined for other commands. */
export function appOf(service: ComposeService): string | undefined {
  for (const word of commandOf(service)) {
    const match = /^dist\/apps\/([a-z0-9-]+)\/src\/main\.js$/.exec(word);
    if (match) return match[1];
  }
  return undefined;
}

/** The sample service a compose service runs (not the broker), if any. */
export function sampleAppOf(service: ComposeService): SampleApp | undefined {
  const app = appOf(service);
  return (SAMPLE_APPS as readonly string[]).includes(app ?? '') ? (app as SampleApp) : undefined;
}

/** The environment as strings (compose writes numbers as numbers and `KEY:` with no value as null). */
export function envOf(service: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.environment ?? {})) {
    if (value !== null) env[key] = String(value);
  }
  return env;
}

export interface Mount {
  /** A host path (absolute, as compose resolves `./x`) or a named volume. */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly named: boolean;
}

/** `source:target[:mode]` entries of a service. */
export function mountsOf(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((entry) => {
    const [source = '', target = '', mode = 'rw'] = entry.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro'), named: !source.startsWith('/') };
  });
}

/** `host:port` of an endpoint list's first entry. */
export function hostPortOf(endpoints: string): { host: string; port: number } {
  const first = endpoints.split(/[,;]/)[0]!.trim();
  const colon = first.lastIndexOf(':');
  return { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
}
