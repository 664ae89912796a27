/**
 * docker-compose.yml through a real compose parser: Debian's `docker-compose` (1.29, installed by
 * .ci/run), which validates the file against the compose schema, resolves anchors, merge keys and
 * `${VAR:-default}` interpolation, and prints the normalized model. No Docker engine is needed.
 *
 * The printed model is YAML; it is read with the YAML library of docker-compose's own Python
 * (python3-yaml is one of its dependencies), so no YAML parser is added to this project.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (this file is test/compose/). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

/** A compose run never takes long; a hang would be a bug worth failing on. */
const COMPOSE_TIMEOUT_MS = 60_000;

/** One service of the normalized model (the parts the checks read). */
export interface ComposeService {
  readonly image?: string;
  readonly command?: readonly string[] | string;
  readonly environment?: Readonly<Record<string, string | number | null>>;
  readonly profiles?: readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly volumes?: readonly string[];
  readonly ports?: readonly ({ readonly published: number; readonly target: number } | string)[];
  readonly healthcheck?: { readonly test: readonly string[] | string };
}

export interface ComposeModel {
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly volumes?: Readonly<Record<string, unknown>>;
}

export interface ComposeCli {
  /** The executable found on PATH. */
  readonly path: string;
  /** Its Python interpreter (the script's `#!` line). */
  readonly python: string;
}

/** The environment compose runs with: PATH and HOME only, so every `${VAR:-default}` takes its default. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

/** docker-compose on PATH, or the reason it cannot be used. */
export function findComposeCli(): ComposeCli | string {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  const path = which.stdout.trim();
  if (which.status !== 0 || path === '') return 'docker-compose is not installed (.ci/run installs it)';
  let firstLine: string;
  try {
    firstLine = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
  } catch (err) {
    return `cannot read ${path}: ${(err as Error).message}`;
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
  if (!shebang) return `${path} is not the Python docker-compose (no #! line); the checks need 1.x`;
  // `#!/usr/bin/env python3` names the interpreter in its second word.
  const python = shebang[1]!.endsWith('/env') && shebang[2] ? shebang[2] : shebang[1]!;
  return { path, python };
}

/** Runs `docker-compose -f docker-compose.yml [--profile p]… <args>` in the repository root. */
export function runCompose(
  cli: ComposeCli,
  profiles: readonly string[],
  args: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    cli.path,
    ['-f', COMPOSE_FILE, ...profiles.flatMap((p) => ['--profile', p]), ...args],
    { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8', timeout: COMPOSE_TIMEOUT_MS },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The normalized model `docker-compose config` prints, as an object. */
export function composeModel(cli: ComposeCli, profiles: readonly string[] = []): ComposeModel {
  const config = runCompose(cli, profiles, ['config']);
  if (config.status !== 0) throw new Error(`docker-compose config failed:\n${config.stderr}`);
  const json = spawnSync(
    cli.python,
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: config.stdout, encoding: 'utf8', timeout: COMPOSE_TIMEOUT_MS },
  );
  if (json.status !== 0) throw new Error(`cannot read the model as YAML:\n${json.stderr}`);
  return JSON.parse(json.stdout) as ComposeModel;
}
