/** The service container type-graphql builds resolvers with: constructor injection by class. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServiceContainer } from '../src/container';

class Clock {
  now = () => 42;
}
class Greeter {
  greet = (who: string) => `hello ${who}`;
}
// Any class decorator makes TypeScript record the constructor's parameter types (emitDecoratorMetadata).
const Decorated = (): ClassDecorator => () => undefined;

@Decorated()
class Consumer {
  constructor(
    readonly clock: Clock,
    readonly greeter: Greeter,
  ) {}
}

test('a decorated class is built once from the registered instances of its constructor parameter types', () => {
  const clock = new Clock();
  const parent = new ServiceContainer().register(Clock, clock);
  const child = new ServiceContainer(parent).register(Greeter, new Greeter());
  const consumer = child.get(Consumer);
  assert.equal(consumer.clock, clock, 'found in the parent');
  assert.equal(consumer.greeter.greet('you'), 'hello you');
  assert.equal(child.get(Consumer), consumer, 'one instance');
  assert.equal(parent.get(Clock), clock);
});

test('a missing dependency, an unknown class and a second registration are clear errors', () => {
  assert.throws(() => new ServiceContainer().register(Clock, new Clock()).get(Consumer), /Consumer needs Greeter in its constructor, which is not registered/);
  class Plain {
    constructor(readonly x: number) {}
  }
  assert.throws(() => new ServiceContainer().get(Plain), /Plain is not registered/);
  assert.throws(() => new ServiceContainer().register(Clock, new Clock()).register(Clock, new Clock()), /Clock is registered already/);
});
