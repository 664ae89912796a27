/**
 * BrokerModule embeds the built-in broker in any Nest app: the broker starts while the app
 * initializes (before `app.init()` / `app.listen()` resolve) and closes after the app's own
 * shutdown hooks ran (`onApplicationShutdown`), so consumers and producers stop before it does.
 *
 * Injectable: the `Broker` itself, and its `BrokerAddress` under the `BROKER_ADDRESS` token (the
 * bound port is known only once started when `port: 0` asks for an ephemeral one).
 *
 * ```ts
 * @Module({ imports: [BrokerModule.forRoot({ dataDir: './data/broker', port: 0 })] })
 * class AppModule {}
 * // elsewhere: constructor(@Inject(BROKER_ADDRESS) address: BrokerAddress) → address.endpoint
 * ```
 */
import {
  type DynamicModule,
  Inject,
  type InjectionToken,
  Module,
  type ModuleMetadata,
  type OnApplicationShutdown,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { Broker, type BrokerAddress, type BrokerOptions } from './broker.js';

/** Injection token of the started broker's `BrokerAddress`. */
export const BROKER_ADDRESS = Symbol('rocketnest:BROKER_ADDRESS');
/** Injection token of the options the broker was started with. */
export const BROKER_OPTIONS = Symbol('rocketnest:BROKER_OPTIONS');

export interface BrokerModuleExtras {
  /** Register the providers globally (default true: an app embeds one broker). */
  readonly global?: boolean;
}

export interface BrokerModuleAsyncOptions extends BrokerModuleExtras {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  readonly useFactory: (...args: never[]) => BrokerOptions | Promise<BrokerOptions>;
}

@Module({})
export class BrokerModule implements OnApplicationShutdown {
  constructor(@Inject(Broker) private readonly broker: Broker) {}

  static forRoot(options: BrokerOptions & BrokerModuleExtras): DynamicModule {
    const { global, ...brokerOptions } = options;
    return brokerModule([{ provide: BROKER_OPTIONS, useValue: brokerOptions }], [], global);
  }

  static forRootAsync(options: BrokerModuleAsyncOptions): DynamicModule {
    return brokerModule(
      [
        {
          provide: BROKER_OPTIONS,
          useFactory: options.useFactory as (...args: unknown[]) => BrokerOptions | Promise<BrokerOptions>,
          inject: options.inject ?? [],
        },
      ],
      options.imports ?? [],
      options.global,
    );
  }

  /** Closes the broker (flush, checkpoint) once the app's own shutdown hooks have run. */
  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}

/** The module with the option providers given, the broker started from them, and its address. */
function brokerModule(
  optionProviders: NonNullable<ModuleMetadata['providers']>,
  imports: NonNullable<ModuleMetadata['imports']>,
  global = true,
): DynamicModule {
  return {
    module: BrokerModule,
    global,
    imports,
    providers: [
      ...optionProviders,
      {
        provide: Broker,
        useFactory: (options: BrokerOptions) => Broker.start(options),
        inject: [BROKER_OPTIONS],
      },
      {
        provide: BROKER_ADDRESS,
        useFactory: (broker: Broker): BrokerAddress => broker.address,
        inject: [Broker],
      },
    ],
    exports: [Broker, BROKER_ADDRESS],
  };
}
