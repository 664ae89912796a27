import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';

@Injectable()
class A { v = 1; }
@Injectable()
class B { constructor(readonly a: A) {} }
@Module({ providers: [A, B] })
class M {}

it('nest DI works in jest ESM', async () => {
  const ref = await Test.createTestingModule({ imports: [M] }).compile();
  expect(ref.get(B).a.v).toBe(1);
});
