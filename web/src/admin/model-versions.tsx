import { useMutation } from 'urql';
import { ErrorNotice } from '../components/status';
import { graphql } from '../gql';
import type { AdminOverviewQuery } from '../gql/graphql';

const ActivateModelVersion = graphql(`
  mutation ActivateModelVersion($id: ID!) {
    activateModelVersion(id: $id) {
      id
      active
    }
  }
`);

type Version = AdminOverviewQuery['modelVersions'][number];
type MetricKey = 'f1Macro' | 'precisionMacro' | 'recallMacro' | 'hamming';

const METRICS: ReadonlyArray<{ key: MetricKey; label: string; better: 'higher' | 'lower' }> = [
  { key: 'f1Macro', label: 'F1 macro', better: 'higher' },
  { key: 'precisionMacro', label: 'Precision macro', better: 'higher' },
  { key: 'recallMacro', label: 'Recall macro', better: 'higher' },
  { key: 'hamming', label: 'Hamming loss', better: 'lower' },
];

/** Every version's test metrics side by side, the difference to the active one, and activate / roll back. */
export function ModelVersionsTable({ versions, onChanged }: { versions: Version[]; onChanged: () => void }) {
  const [state, activate] = useMutation(ActivateModelVersion);
  const active = versions.find((v) => v.active);
  const best = new Map(
    METRICS.map((m) => {
      const values = versions.flatMap((v) => (v.metrics ? [v.metrics[m.key]] : []));
      return [m.key, m.better === 'higher' ? Math.max(...values) : Math.min(...values)];
    }),
  );
  const onActivate = async (v: Version) => {
    const r = await activate({ id: v.id });
    if (!r.error) onChanged();
  };
  return (
    <section aria-labelledby="versions-title" className="versions">
      <h2 id="versions-title">Model versions</h2>
      {versions.length === 0 ? (
        <p className="empty">No model trained yet. Start retraining above.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <caption>Test-split metrics; the difference to the active version in brackets; best of each column in bold.</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
                <th scope="col">Model</th>
                {METRICS.map((m) => (
                  <th scope="col" key={m.key}>
                    {m.label}
                  </th>
                ))}
                <th scope="col">Trained</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.id} className={v.active ? 'active' : undefined} aria-current={v.active ? 'true' : undefined}>
                  <th scope="row">
                    {v.name}
                    {v.active && <span className="badge">active</span>}
                  </th>
                  <td>
                    {!v.active && (
                      <button type="button" onClick={() => void onActivate(v)} disabled={state.fetching}>
                        {active && new Date(v.createdAt) < new Date(active.createdAt) ? 'Roll back to this' : 'Activate'}
                        <span className="visually-hidden"> {v.name}</span>
                      </button>
                    )}
                  </td>
                  <td>{v.metrics ? `${v.kind} · ${v.metrics.scheme}` : v.kind}</td>
                  {METRICS.map((m) => {
                    const x = v.metrics?.[m.key];
                    if (x == null) return <td key={m.key}>—</td>;
                    const ref = active?.metrics?.[m.key];
                    const delta = ref != null && !v.active ? x - ref : null;
                    return (
                      <td key={m.key} className={x === best.get(m.key) ? 'best' : undefined}>
                        {x.toFixed(3)}
                        {delta != null && (
                          <span className="delta">
                            {' '}
                            ({delta >= 0 ? '+' : ''}
                            {delta.toFixed(3)})
                          </span>
                        )}
                      </td>
                    );
                  })}
                  <td>
                    <time dateTime={v.createdAt}>{new Date(v.createdAt).toLocaleString()}</time> · {(v.trainingMs / 1000).toFixed(1)} s
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {state.error && <ErrorNotice error={state.error} what="activate the version" />}
    </section>
  );
}
