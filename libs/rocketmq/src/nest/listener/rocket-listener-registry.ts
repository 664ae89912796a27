/**
 * The application's `@RocketListener`s: discovered at bootstrap on every provider and controller,
 * run through Nest's pipeline, and controllable at runtime.
 *
 * ```ts
 * constructor(private readonly listeners: RocketListenerRegistry) {}
 * await this.listeners.pause('OrderEvents.onOrder');   // stops receiving, waits for running handlers
 * await this.listeners.resume('OrderEvents.onOrder');
 * this.listeners.list();                               // ids, groups, states, counters, consumer stats
 * ```
 *
 * The method is called through Nest's `ExternalContextCreator` with context type `rpc`, as
 * `@nestjs/microservices` handlers are: guards, interceptors and exception filters bound to the
 * method or its class apply, pipes apply to `@Payload()` parameters, and
 * `context.switchToRpc().getData()` / `.getContext()` are the payload and the `RocketMQContext`.
 * An exception filter that handles an error answers for the method: `ConsumeResult.SUCCESS`
 * acknowledges, `Reconsume.after(ms)` retries later (a filter returning nothing lets the error
 * through, as Nest's filters do; an Observable that errors is an error). An exception that escapes
 * the filters, a guard's refusal (ForbiddenException) and a pipe's (BadRequestException) retry the
 * message, and it reaches the DLQ after `maxReconsumeTimes`: a message is never acknowledged
 * without a handler having accepted it.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import { PARAM_ARGS_METADATA } from '@nestjs/microservices/constants.js';
import { RpcParamsFactory } from '@nestjs/microservices/factories/rpc-params-factory.js';
import { isObservable, lastValueFrom } from 'rxjs';
import { findDecoratedMethods } from '../discovery/decorated-methods.js';
import { ROCKET_LISTENER_METADATA, ROCKET_ORDERLY_METADATA } from '../decorators/metadata-keys.js';
import { type RocketListenerOptions } from '../decorators/rocket-listener.decorator.js';
import { RocketMQConnection } from '../module/rocketmq-connection.js';
import { type ResolvedRocketMQOptions } from '../module/rocketmq-options.js';
import { RESOLVED_ROCKETMQ_OPTIONS } from '../module/rocketmq.tokens.js';
import { defineListener, type ListenerDefinition, type ListenerInvoker } from './listener-definition.js';
import { ListenerRunner, type RocketListenerInfo } from './listener-runner.js';

/** `@Payload()` → the payload (or a property of it), `@Ctx()` → the context: Nest's own RPC mapping. */
const rpcParams = (() => {
  const factory = new RpcParamsFactory();
  return {
    exchangeKeyForValue: (type: number, data: unknown, args: unknown[]): unknown =>
      factory.exchangeKeyForValue(type, typeof data === 'string' ? data : undefined, args),
  };
})();

/** An unknown listener id. */
export class UnknownListenerError extends Error {
  constructor(
    readonly id: string,
    known: readonly string[],
  ) {
    super(`no @RocketListener with id ${JSON.stringify(id)} (known: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownListenerError';
  }
}

@Injectable()
export class RocketListenerRegistry {
  readonly #logger = new Logger('RocketListenerRegistry');
  readonly #runners = new Map<string, ListenerRunner>();
  #discovered = false;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(ExternalContextCreator) private readonly contextCreator: ExternalContextCreator,
    @Inject(RocketMQConnection) private readonly connection: RocketMQConnection,
    @Inject(RESOLVED_ROCKETMQ_OPTIONS) private readonly options: ResolvedRocketMQOptions,
  ) {}

  /** Every listener, with its state and counters. */
  list(): RocketListenerInfo[] {
    return [...this.#runners.values()].map((r) => r.info());
  }

  /** @throws UnknownListenerError */
  get(id: string): RocketListenerInfo {
    return this.#runner(id).info();
  }

  /**
   * Stops receiving for one listener and waits for its running handlers (their messages are
   * acknowledged or retried as usual). Messages keep accumulating in its group meanwhile.
   * @throws UnknownListenerError
   */
  async pause(id: string): Promise<void> {
    await this.#runner(id).pause();
  }

  /** Consumes again where the group is. @throws UnknownListenerError, or why the consumer could not start */
  async resume(id: string): Promise<void> {
    await this.#runner(id).resume();
  }

  /**
   * Discovers the listeners (once) and checks them all before any connects.
   * @throws the first bad listener's error (duplicate ids, bad options)
   */
  discover(): readonly ListenerDefinition[] {
    if (this.#discovered) return [...this.#runners.values()].map((r) => r.definition);
    const methods = findDecoratedMethods<RocketListenerOptions>(
      this.discovery,
      this.scanner,
      ROCKET_LISTENER_METADATA,
    );
    const definitions: ListenerDefinition[] = [];
    for (const method of methods) {
      const instance = method.instance;
      if (instance === undefined) continue;
      const callback = instance[method.methodName] as (...args: unknown[]) => unknown;
      const orderly = Reflect.getMetadata(ROCKET_ORDERLY_METADATA, callback) === true;
      const invoke = this.#pipeline(instance, callback, method.methodName);
      for (const options of method.metadata) {
        definitions.push(
          defineListener(
            {
              className: method.classRef.name,
              methodName: method.methodName,
              options,
              orderly,
              onMethod: method.metadata.length,
              invoke,
            },
            this.options,
          ),
        );
      }
    }
    const ids = new Set<string>();
    const groups = new Map<string, string>();
    for (const d of definitions) {
      if (ids.has(d.id))
        throw new RangeError(`two @RocketListener have the id ${JSON.stringify(d.id)}; give one an id`);
      ids.add(d.id);
      // One consumer per (group, topic): two listeners in one group on one topic would split its messages.
      const key = `${d.group}\u0000${d.topic}`;
      const other = groups.get(key);
      if (other !== undefined) {
        throw new RangeError(
          `@RocketListener ${d.id} and ${other} both consume ${d.topic} in group ${d.group}; give one another group`,
        );
      }
      groups.set(key, d.id);
    }
    for (const d of definitions) this.#runners.set(d.id, new ListenerRunner(d, this.connection));
    this.#discovered = true;
    return definitions;
  }

  /** Starts every listener; on a failure, stops those started and rethrows. */
  async startAll(): Promise<void> {
    this.discover();
    const runners = [...this.#runners.values()];
    const results = await Promise.allSettled(runners.map((r) => r.start()));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await this.stopAll();
      const reason = (results[failed] as PromiseRejectedResult).reason as unknown;
      this.#logger.error(`listener ${runners[failed]!.definition.id} could not start: ${String(reason)}`);
      throw reason;
    }
    if (runners.length > 0) {
      this.#logger.log(
        `${runners.length} listener(s) consuming: ` +
          runners
            .map((r) => `${r.definition.id} (${r.definition.pattern} in ${r.definition.group})`)
            .join(', '),
      );
    }
  }

  /** Shutdown: every listener stops receiving and drains its running handlers, all at once. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.#runners.values()].map((r) => r.stop()));
  }

  #runner(id: string): ListenerRunner {
    const runner = this.#runners.get(id);
    if (runner === undefined) throw new UnknownListenerError(id, [...this.#runners.keys()]);
    return runner;
  }

  /** The method behind Nest's guards, interceptors, pipes (on `@Payload()`) and exception filters. */
  #pipeline(
    instance: Record<string, unknown>,
    callback: (...args: unknown[]) => unknown,
    methodName: string,
  ): ListenerInvoker {
    const handler = this.contextCreator.create(
      instance,
      callback,
      methodName,
      PARAM_ARGS_METADATA,
      rpcParams,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: true },
      'rpc',
    );
    return async (args) => {
      const result: unknown = await handler(...args);
      // An exception filter may answer with an Observable (Nest's BaseRpcExceptionFilter returns
      // throwError(...)): its error is the method's error, its last value the method's answer.
      return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
    };
  }
}
