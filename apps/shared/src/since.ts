import { BadRequestException } from '@nestjs/common';

/** `?since=` of the stats endpoints: epoch ms or an ISO date; absent = everything. */
export function parseSince(value: string | undefined): Date {
  if (value === undefined || value === '') return new Date(0);
  const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(value);
  if (Number.isNaN(date.getTime())) throw new BadRequestException('since must be epoch ms or an ISO date');
  return date;
}
