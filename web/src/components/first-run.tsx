import { FIRST_RUN_STEPS } from '../../../src/presentation/first-run';

/** The empty catalogue: the same steps the server prints at start. */
export function FirstRun() {
  return (
    <section className="first-run" aria-labelledby="first-run-title">
      <h2 id="first-run-title">No posters yet</h2>
      <p>The catalogue is empty. To load posters, run from the project root:</p>
      <dl>
        {FIRST_RUN_STEPS.map((s) => (
          <div key={s.command}>
            <dt>
              <code>{s.command}</code>
            </dt>
            <dd>{s.does}</dd>
          </div>
        ))}
      </dl>
      <p>Then reload this page.</p>
    </section>
  );
}
