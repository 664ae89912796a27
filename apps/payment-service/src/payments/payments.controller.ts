import { Controller, Get, NotFoundException, Param, ParseUUIDPipe } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { PaymentEntity } from '../entities/payment.entity.js';

@Controller('payments')
export class PaymentsController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The payment of an order (one per order). */
  @Get(':orderId')
  async find(@Param('orderId', new ParseUUIDPipe()) orderId: string): Promise<PaymentEntity> {
    const payment = await this.dataSource.manager.findOneBy(PaymentEntity, { orderId });
    if (payment === null) throw new NotFoundException(`no payment for order ${orderId}`);
    return payment;
  }
}
