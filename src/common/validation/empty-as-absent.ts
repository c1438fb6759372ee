import { Transform } from 'class-transformer';

/**
 * An empty query value (`?status=`, as a client that fills a form's filters in sends) is the parameter left out:
 * IsOptional lets only null and undefined through, so `GET /disbursements?status=&hospitalId=` (API.md's own
 * spelling) was a 400. A left-out parameter with a default gets its default.
 */
export function EmptyAsAbsent(): PropertyDecorator {
  return (target, key) => {
    const absent = () => (new (target.constructor as new () => Record<string | symbol, unknown>)())[key];
    Transform(({ value }: { value: unknown }) => (value === '' ? absent() : value))(target, key);
  };
}
