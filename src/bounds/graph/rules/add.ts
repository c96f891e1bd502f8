/** a + b */
import { addSubRule } from './add-sub.ts';

export const add = addSubRule<'add'>(1);
