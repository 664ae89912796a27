import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  ServiceUnavailableException,
  ValidationPipe,
} from '@nestjs/common';
import { CreateOrderDto } from './create-order.dto.js';
import { OrderNotCreatedError, OrderOutcomeUnknownError } from './order-errors.js';
import { isOrderStatus } from './order-status.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, OrdersService, type OrderView } from './orders.service.js';

/**
 * Unknown fields are refused (a typo such as `ammount` must not pass silently). The DTO class is
 * named here rather than read from decorator metadata, which a type-only import would erase.
 */
const bodyValidation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  expectedType: CreateOrderDto,
});

@Controller('orders')
export class OrdersController {
  constructor(@Inject(OrdersService) private readonly orders: OrdersService) {}

  /** 201 with the PENDING order; 400 invalid; 503 when it could not be stored (nothing is charged). */
  @Post()
  @HttpCode(201)
  async create(@Body(bodyValidation) dto: CreateOrderDto): Promise<OrderView> {
    try {
      return await this.orders.create(dto);
    } catch (err) {
      if (err instanceof OrderNotCreatedError) {
        throw new ServiceUnavailableException({
          message: 'the order could not be stored; nothing will be charged',
          orderId: err.orderId,
        });
      }
      if (err instanceof OrderOutcomeUnknownError) {
        throw new ServiceUnavailableException({
          message: 'the order outcome is not known yet; look it up later',
          orderId: err.orderId,
        });
      }
      throw new ServiceUnavailableException({
        message: `the broker did not take the order: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }

  @Get(':id')
  async find(@Param('id', new ParseUUIDPipe()) id: string) {
    const found = await this.orders.find(id);
    if (found === undefined) throw new NotFoundException(`order ${id} does not exist`);
    return { ...found.order, history: found.history };
  }

  @Get()
  list(@Query('status') status?: string, @Query('userId') userId?: string, @Query('limit') limit?: string) {
    if (status !== undefined && !isOrderStatus(status)) {
      throw new BadRequestException('status must be PENDING, PAID, FAILED or CANCELLED');
    }
    const take = limit === undefined ? DEFAULT_LIST_LIMIT : Number(limit);
    if (!Number.isInteger(take) || take < 1 || take > MAX_LIST_LIMIT) {
      throw new BadRequestException(`limit must be an integer 1..${MAX_LIST_LIMIT}`);
    }
    return this.orders.list({ status, userId, limit: take });
  }
}
