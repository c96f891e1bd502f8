/** Typed access to an ONNX node's attributes, with a one-line error for a value of the wrong kind. */
import { fail, printable } from '../../errors.ts';
import type { OAttr, ONode } from '../onnx-schema.ts';

export function attr(n: ONode, name: string): OAttr | undefined {
  return n.attribute?.find((a) => a.name === name);
}

export function int(n: ONode, name: string, d: number, at: string): number {
  const a = attr(n, name);
  if (!a) return d;
  const v = Number(a.i ?? 0);
  if (!Number.isSafeInteger(v)) fail(`${at}: attribute ${name} is not a whole number`);
  return v;
}

export function float(n: ONode, name: string, d: number): number {
  const a = attr(n, name);
  return a ? Number(a.f ?? 0) : d;
}

export function ints(n: ONode, name: string, at: string): number[] | undefined {
  const a = attr(n, name);
  if (!a) return undefined;
  const v = (a.ints ?? []).map(Number);
  if (!v.every(Number.isSafeInteger)) fail(`${at}: attribute ${name} holds a value that is not a whole number`);
  return v;
}

export function str(n: ONode, name: string, d: string): string {
  const a = attr(n, name);
  return a?.s ? printable(Buffer.from(a.s).toString('utf8')) : d;
}
