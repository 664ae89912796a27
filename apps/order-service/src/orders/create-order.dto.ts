/**
 * The body of `POST /orders`, checked by class-validator: a user, 1..100 items, and an amount that
 * must equal Σ qty × price (to the cent) — a client that computed another total gets a 400
 * rather than being charged something it did not show its user.
 */
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsNumber,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';

export const MAX_ITEMS_PER_ORDER = 100;
export const MAX_QTY = 1_000;
export const MAX_PRICE = 100_000;
export const ID_PATTERN = /^[A-Za-z0-9_.@:-]{1,64}$/;

export class OrderItemDto {
  @IsString()
  @Matches(ID_PATTERN, { message: 'sku must be 1..64 characters of [A-Za-z0-9_.@:-]' })
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(MAX_QTY)
  qty!: number;

  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(MAX_PRICE)
  price!: number;
}

/** Cents of a money amount (amounts have at most two decimals). */
export function cents(value: number): number {
  return Math.round(value * 100);
}

/** Σ qty × price of the items, in cents; NaN when an item is malformed (other rules report it). */
export function itemsTotalCents(items: unknown): number {
  if (!Array.isArray(items)) return NaN;
  return items.reduce<number>((sum, item: Partial<OrderItemDto> | null) => {
    if (item === null || typeof item !== 'object') return NaN;
    return sum + (item.qty ?? NaN) * cents(item.price ?? NaN);
  }, 0);
}

/** `amount` equals the items' total to the cent. */
function MatchesItemsTotal(): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'matchesItemsTotal',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const total = itemsTotalCents((args.object as { items?: unknown }).items);
          return typeof value === 'number' && Number.isFinite(total) && cents(value) === total;
        },
        defaultMessage(args: ValidationArguments) {
          const total = itemsTotalCents((args.object as { items?: unknown }).items);
          return Number.isFinite(total)
            ? `amount must equal the sum of qty × price of the items (${(total / 100).toFixed(2)})`
            : 'amount must equal the sum of qty × price of the items';
        },
      },
    });
  };
}

export class CreateOrderDto {
  @IsString()
  @Matches(ID_PATTERN, { message: 'userId must be 1..64 characters of [A-Za-z0-9_.@:-]' })
  userId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ITEMS_PER_ORDER)
  @ValidateNested({ each: true })
  @Type(() => OrderItemDto)
  items!: OrderItemDto[];

  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @MatchesItemsTotal()
  amount!: number;
}
