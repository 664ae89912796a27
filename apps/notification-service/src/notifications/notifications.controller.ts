import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IdempotencyMetrics } from '@rocketnest/idempotency';
import {
  RESOLVED_ROCKETMQ_OPTIONS,
  RocketTemplate,
  type ResolvedRocketMQOptions,
} from '@rocketnest/rocketmq';
import { type DataSource } from 'typeorm';
import { type ConfigChangedEvent } from '../../../shared/src/events.js';
import { CONFIG_CHANGED_TOPIC } from '../../../shared/src/topics.js';
import { NotificationEntity } from '../entities/notification.entity.js';
import { NotificationSettings } from './notification-settings.js';

/** Most notifications one `GET /notifications` returns. */
export const MAX_NOTIFICATIONS_LISTED = 500;
const SETTING_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_SETTING_VALUE = 1_000;

@Controller()
export class NotificationsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RocketTemplate) private readonly rocket: RocketTemplate,
    @Inject(NotificationSettings) private readonly settings: NotificationSettings,
    @Inject(IdempotencyMetrics) private readonly idempotency: IdempotencyMetrics,
    @Inject(RESOLVED_ROCKETMQ_OPTIONS) private readonly rocketmq: ResolvedRocketMQOptions,
  ) {}

  @Get('notifications')
  list(@Query('orderId') orderId?: string): Promise<NotificationEntity[]> {
    return this.dataSource.manager.find(NotificationEntity, {
      where: orderId === undefined ? {} : { orderId },
      order: { createdAt: 'ASC' },
      take: MAX_NOTIFICATIONS_LISTED,
    });
  }

  /** Broadcasts a setting to every instance (each applies it when its copy arrives). */
  @Post('config')
  @HttpCode(202)
  async change(@Body() body: { key?: unknown; value?: unknown }): Promise<{ messageId: string }> {
    const { key, value } = body ?? {};
    if (typeof key !== 'string' || !SETTING_KEY.test(key)) {
      throw new BadRequestException('key must be 1..64 characters of [A-Za-z0-9_.-]');
    }
    if (typeof value !== 'string' || value.length > MAX_SETTING_VALUE) {
      throw new BadRequestException(`value must be a string of at most ${MAX_SETTING_VALUE} characters`);
    }
    const change: ConfigChangedEvent = { key, value };
    const receipt = await this.rocket.send(CONFIG_CHANGED_TOPIC, change, { keys: [key] });
    return { messageId: receipt.messageId };
  }

  @Get('config')
  config(): { instance: string; settings: Record<string, string> } {
    return { instance: this.rocketmq.instanceName, settings: this.settings.all() };
  }

  @Get('stats')
  async stats() {
    const rows = (await this.dataSource.query(
      `SELECT kind, count(*)::int AS n FROM notifications GROUP BY kind`,
    )) as Array<{ kind: string; n: number }>;
    return {
      byKind: Object.fromEntries(rows.map((r) => [r.kind, r.n])),
      duplicatesSuppressed: this.idempotency.snapshot().outcomes.duplicate,
    };
  }
}
