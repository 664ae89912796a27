import { type ValueTransformer } from 'typeorm';

/** `numeric` columns come back from Postgres as strings: money in this sample is a JS number. */
export const decimalTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
