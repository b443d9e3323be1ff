/** The shape of a string catalogue: the Russian one's, so another language missing a key (or with a wrong parameter) fails tsc. */
import type { ru } from './ru';

type Widen<T> = T extends string
  ? string
  : T extends (...args: infer A) => string
    ? (...args: A) => string
    : T extends object
      ? { [K in keyof T]: Widen<T[K]> }
      : T;
export type Catalogue = Widen<typeof ru>;
