/** Injection tokens of the module. */

/** The options as given to `forRoot` / returned by `forRootAsync`'s factory. */
export const ROCKETMQ_MODULE_OPTIONS = Symbol('rocketnest:ROCKETMQ_MODULE_OPTIONS');
/** The options with environment fallbacks and defaults applied (`ResolvedRocketMQOptions`). */
export const RESOLVED_ROCKETMQ_OPTIONS = Symbol('rocketnest:RESOLVED_ROCKETMQ_OPTIONS');
/** The module's started `Producer` (RocketTemplate sends through it). */
export const ROCKETMQ_PRODUCER = Symbol('rocketnest:ROCKETMQ_PRODUCER');
