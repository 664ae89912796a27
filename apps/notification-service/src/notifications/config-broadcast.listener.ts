/**
 * Broadcasting: every notification-service instance receives every `config-changed` message
 * (each consumes in a group of its own, `notification-config-BROADCAST-<instance>`), applies it to
 * its settings and records that it did — one row per instance and message.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  RESOLVED_ROCKETMQ_OPTIONS,
  RocketListener,
  type ResolvedRocketMQOptions,
  type RocketMQContext,
} from '@rocketnest/rocketmq';
import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { type ConfigChangedEvent } from '../../../shared/src/events.js';
import { CONFIG_CHANGED_TOPIC, NOTIFICATION_CONFIG_GROUP } from '../../../shared/src/topics.js';
import { NotificationEntity } from '../entities/notification.entity.js';
import { NotificationSettings } from './notification-settings.js';

@Injectable()
export class ConfigBroadcastListener {
  readonly #logger = new Logger('ConfigBroadcast');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(NotificationSettings) private readonly settings: NotificationSettings,
    @Inject(RESOLVED_ROCKETMQ_OPTIONS) private readonly rocketmq: ResolvedRocketMQOptions,
  ) {}

  @RocketListener({ topic: CONFIG_CHANGED_TOPIC, group: NOTIFICATION_CONFIG_GROUP, model: 'broadcasting' })
  async onConfigChanged(change: ConfigChangedEvent, ctx: RocketMQContext): Promise<void> {
    if (typeof change?.key !== 'string' || typeof change.value !== 'string') {
      this.#logger.warn(`config-changed ${ctx.getMessageId()} ignored: not {key, value}`);
      return;
    }
    if (!this.settings.set(change.key, change.value)) {
      this.#logger.warn(`config-changed ${ctx.getMessageId()} ignored: too many settings`);
      return;
    }
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(NotificationEntity)
      .values({
        id: randomUUID(),
        kind: 'CONFIG_APPLIED',
        orderId: null,
        userId: null,
        instance: this.rocketmq.instanceName,
        messageId: ctx.getMessageId(),
        text: `${change.key}=${change.value}`,
        createdAt: new Date(),
      })
      .orIgnore()
      .execute();
  }
}
