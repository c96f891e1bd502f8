/** a - b */
import { addSubRule } from './add-sub.ts';

export const sub = addSubRule<'sub'>(-1);
