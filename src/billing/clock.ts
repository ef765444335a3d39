import { Injectable } from '@nestjs/common';

/** The time budgets are counted in; tests provide their own to cross period boundaries at will. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
