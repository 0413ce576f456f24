import 'reflect-metadata';

/** A class used as a key: the container hands out its one instance. */
export type Token<T> = abstract new (...args: never[]) => T;

/**
 * A small dependency container keyed by class, used as type-graphql's `container`. The App (the
 * composition root) registers the services it built; a resolver class is built on first use from the
 * registered instances of its constructor's parameter types (recorded by emitDecoratorMetadata on
 * decorated classes), then reused. A child container adds registrations without touching its parent.
 */
export class ServiceContainer {
  private readonly instances = new Map<Token<unknown>, unknown>();

  constructor(private readonly parent?: ServiceContainer) {}

  /** Registers the instance handed out for `token`; one registration per class. */
  register<T>(token: Token<T>, instance: T): this {
    if (this.instances.has(token)) throw new Error(`${token.name} is registered already`);
    this.instances.set(token, instance);
    return this;
  }

  /** The registered instance, or (for a decorated class) one built from registered dependencies. */
  get<T>(token: Token<T>): T {
    const found = this.lookup(token);
    if (found !== undefined) return found;
    const params = Reflect.getMetadata('design:paramtypes', token) as Array<Token<unknown>> | undefined;
    if (params === undefined && token.length > 0) throw new Error(`${token.name} is not registered and records no constructor parameter types`);
    const args = (params ?? []).map((dep, i) => {
      const d = dep === undefined ? undefined : this.lookup(dep);
      if (d === undefined) throw new Error(`${token.name} needs ${dep?.name ?? `parameter ${i}`} in its constructor, which is not registered`);
      return d;
    });
    const instance = new (token as unknown as new (...a: unknown[]) => T)(...args);
    this.instances.set(token, instance);
    return instance;
  }

  private lookup<T>(token: Token<T>): T | undefined {
    return (this.instances.get(token) as T | undefined) ?? this.parent?.lookup(token);
  }
}
