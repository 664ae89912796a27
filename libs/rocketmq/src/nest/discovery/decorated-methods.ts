/**
 * Finds methods carrying one of the Nest layer's decorators on every provider and controller of
 * the application (golevelup's discovery, on Nest's own DiscoveryService and MetadataScanner).
 *
 * Only class providers count (a factory's or value's prototype is not the decorated class), and
 * only static ones: a request-scoped or transient provider has no single instance to deliver
 * messages to, so its decorated methods are reported and skipped.
 */
import { Logger, type Type } from '@nestjs/common';
import { type DiscoveryService, type MetadataScanner } from '@nestjs/core';
import { type InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

/** A decorated method of a class provider or controller. */
export interface DecoratedMethod<T> {
  /** The class, as Nest registered it. */
  readonly classRef: Type<unknown>;
  readonly methodName: string;
  /** Every value of the decorator on that method (several decorators of a kind per method). */
  readonly metadata: readonly T[];
  /** The instance (undefined before instantiation or for non-static providers). */
  readonly instance: Record<string, unknown> | undefined;
  readonly wrapper: InstanceWrapper;
}

const logger = new Logger('RocketMQDiscovery');

function classOf(wrapper: InstanceWrapper): Type<unknown> | undefined {
  const metatype = wrapper.metatype;
  if (typeof metatype !== 'function' || wrapper.isNotMetatype || wrapper.inject) return undefined;
  return metatype as Type<unknown>;
}

/**
 * Methods carrying `metadataKey` (a list of values, see `appendMethodMetadata`).
 * @param withInstances false before instances exist (metadata only, e.g. in a provider factory)
 */
export function findDecoratedMethods<T>(
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  metadataKey: string,
  withInstances = true,
): DecoratedMethod<T>[] {
  const found: DecoratedMethod<T>[] = [];
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    const classRef = classOf(wrapper);
    if (classRef === undefined) continue;
    const prototype = classRef.prototype as Record<string, unknown> | undefined;
    if (prototype === undefined || prototype === null) continue;
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = prototype[methodName];
      if (typeof method !== 'function') continue;
      const metadata = Reflect.getMetadata(metadataKey, method) as T[] | undefined;
      if (metadata === undefined || metadata.length === 0) continue;
      if (withInstances && !wrapper.isDependencyTreeStatic()) {
        logger.warn(
          `${classRef.name}.${methodName} is not a singleton (request-scoped or transient); ` +
            'its RocketMQ decorators are ignored',
        );
        continue;
      }
      const instance = withInstances ? (wrapper.instance as Record<string, unknown> | undefined) : undefined;
      found.push({ classRef, methodName, metadata, instance, wrapper });
    }
  }
  return dedupe(found, withInstances);
}

/** One entry per (instance or class, method): a class registered by several modules is one set of handlers. */
function dedupe<T>(methods: DecoratedMethod<T>[], withInstances: boolean): DecoratedMethod<T>[] {
  const seen = new Map<unknown, Set<string>>();
  return methods.filter((m) => {
    const owner = withInstances ? m.instance : m.classRef;
    let names = seen.get(owner);
    if (!names) {
      names = new Set();
      seen.set(owner, names);
    }
    if (names.has(m.methodName)) return false;
    names.add(m.methodName);
    return true;
  });
}
