/** `node --import ./ts-register.mjs scenario.ts`: runs a scenario from source (see ts-hooks.mjs). */
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
