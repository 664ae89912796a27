/**
 * Jest side of the compatibility proof: a real built-in `Broker` in this process (temp data dir,
 * ephemeral port unless told), and the official client in child processes (scenarios/*.ts), each
 * bounded by a timeout: on overrun it is killed and the test fails with its stderr tail, never hangs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Broker, type BrokerOptions } from '../../libs/broker/src/broker.js';
import { MemoryLogger } from '../../libs/broker/src/grpc/testing/grpc-harness.js';
import {
  RESULT_MARKER,
  specBody,
  type MessageSpec,
  type ObservedMessage,
} from './scenarios/scenario-types.js';

const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const TS_REGISTER = pathToFileURL(join(SCENARIO_DIR, 'ts-register.mjs')).href;
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STDERR_TAIL_CHARS = 6000;

/** A temp directory per test file: broker data and the clients' HOME (their file loggers write there). */
export class CompatWorkspace {
  readonly root = mkdtempSync(join(tmpdir(), 'rn-compat-'));
  readonly home = join(this.root, 'home');
  readonly brokerLogger = new MemoryLogger();
  #brokers: Broker[] = [];
  #scenarioRuns = 0;

  constructor() {
    mkdirSync(this.home);
  }

  /** The brokers' data dir: the same for every start, so a start after a close is a restart. */
  get dataDir(): string {
    return join(this.root, 'broker');
  }

  /** Starts a broker on the workspace's data dir, on an ephemeral port unless given one. */
  async startBroker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
    const broker = await Broker.start({
      dataDir: this.dataDir,
      host: '127.0.0.1',
      port: 0,
      logger: this.brokerLogger,
      ...options,
    });
    this.#brokers.push(broker);
    return broker;
  }

  /** Closes every broker still open, then deletes the directory. */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.#brokers.map((b) => b.close(0)));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** What the broker logged as errors or warnings (a client behaving normally should cause none). */
  brokerProblems(): string[] {
    return this.brokerLogger.lines.filter((l) => l.level !== 'log').map((l) => `${l.level}: ${l.message}`);
  }

  /** The broker's last log lines, for failure messages. */
  brokerLogTail(lines = 30): string {
    return this.brokerLogger.lines
      .slice(-lines)
      .map((l) => `${l.level}: ${l.message}`)
      .join('\n');
  }

  /**
   * Runs `scenarios/<name>.ts` with `input` in a child process and returns its result. Rejects,
   * with the child's stderr tail and the broker's log tail, when it fails or overruns `timeoutMs`.
   * The input goes through a file: a command-line argument is limited to 128 KiB.
   */
  runScenario<I, R>(name: string, input: I, timeoutMs: number): Promise<R> {
    const inputFile = join(this.root, `${name}-${++this.#scenarioRuns}.input.json`);
    writeFileSync(inputFile, JSON.stringify(input));
    const child = spawn(
      process.execPath,
      ['--import', TS_REGISTER, join(SCENARIO_DIR, `${name}.ts`), inputFile],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, HOME: this.home, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    return new Promise<R>((resolve, reject) => {
      const failure = (why: string): Error =>
        new Error(
          `scenario ${name} ${why}\n--- scenario stderr (tail) ---\n${stderr}\n` +
            `--- broker log (tail) ---\n${this.brokerLogTail()}`,
        );
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
        reject(failure(`overran its ${timeoutMs} ms budget and was killed`));
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(failure(`could not start: ${err.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return; // already reported
        const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
        if (code !== 0 || line === undefined) {
          reject(failure(`exited with ${code ?? signal} ${line === undefined ? 'without a result' : ''}`));
          return;
        }
        resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as R);
      });
    });
  }
}

/**
 * The workspace of a test file, with its hooks: after each test the broker must have logged no
 * warning or error (a well-behaved client should cause none); after all, brokers close and the
 * directory goes.
 */
export function setUpCompatWorkspace(): CompatWorkspace {
  const workspace = new CompatWorkspace();
  afterEach(() => {
    expect(workspace.brokerProblems()).toEqual([]);
  });
  afterAll(() => workspace.dispose());
  return workspace;
}

/** A unique resource name per test (topics and groups persist in the broker's data dir). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** What the application should see for a spec it sent (body bytes, tag, keys, properties). */
export function expectedContent(
  spec: MessageSpec,
): Pick<ObservedMessage, 'bodyBase64' | 'tag' | 'keys' | 'properties'> {
  return {
    bodyBase64: specBody(spec).toString('base64'),
    tag: spec.tag ?? null,
    keys: [...(spec.keys ?? [])],
    properties: { ...(spec.properties ?? {}) },
  };
}

/** The content part of an observed message, for `toEqual` against `expectedContent`. */
export function contentOf(
  message: ObservedMessage,
): Pick<ObservedMessage, 'bodyBase64' | 'tag' | 'keys' | 'properties'> {
  return {
    bodyBase64: message.bodyBase64,
    tag: message.tag,
    keys: message.keys,
    properties: message.properties,
  };
}
