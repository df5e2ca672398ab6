import type { StringRule } from '../field-rules.js';

export type Schema = Readonly<Record<string, unknown>>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const ruled = (rule: StringRule, extra: Schema = {}): Schema => ({
  type: 'string',
  minLength: rule.minLength,
  maxLength: rule.maxLength,
  ...(rule.pattern === undefined ? {} : { pattern: rule.pattern }),
  description: rule.message.replace(/^must be /, ''),
  ...extra,
});

export const object = (required: Record<string, Schema>, optional: Record<string, Schema> = {}, extra: Schema = {}): Schema => ({
  type: 'object',
  ...(Object.keys(required).length === 0 ? {} : { required: Object.keys(required) }),
  properties: { ...required, ...optional },
  ...extra,
});

export const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: 'null' }] });

export const uuid: Schema = { type: 'string', format: 'uuid' };
export const dateTime: Schema = { type: 'string', format: 'date-time' };
