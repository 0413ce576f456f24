import { useState } from 'react';
import { useQuery } from 'urql';
import { useAdminKey } from '../admin/admin-key';
import { AddMovieForm, DeleteMovieForm } from '../admin/movie-forms';
import { RetrainPanel } from '../admin/retrain-panel';
import { ModelVersionsTable } from '../admin/model-versions';
import { ErrorNotice, Loading } from '../components/status';
import { graphql } from '../gql';

export const AdminOverview = graphql(`
  query AdminOverview {
    serverInfo {
      version
      database
      backbone
      provider
      activeModelVersion
      indexedPosters
      indexGraphReady
    }
    modelVersions {
      id
      name
      backbone
      kind
      active
      trainingMs
      createdAt
      metrics {
        model
        scheme
        f1Macro
        f1Micro
        precisionMacro
        recallMacro
        hamming
      }
    }
  }
`);

export function AdminPage() {
  const { adminKey, setAdminKey } = useAdminKey();
  return (
    <div className="admin">
      <h1>Admin</h1>
      {adminKey ? (
        <>
          <p className="admin-key-status">
            Using an admin API key.{' '}
            <button type="button" className="link-button" onClick={() => setAdminKey(null)}>
              Forget the key
            </button>
          </p>
          <AdminConsole />
        </>
      ) : (
        <KeyForm onKey={setAdminKey} />
      )}
    </div>
  );
}

function KeyForm({ onKey }: { onKey: (key: string) => void }) {
  const [key, setKey] = useState('');
  return (
    <form
      className="key-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (key.trim()) onKey(key.trim());
      }}
    >
      <p>
        Retraining, model versions and catalogue changes need an API key with role admin (<code>npx marquee apikey create --role admin</code>). It is kept for
        this browser session only.
      </p>
      <label>
        <span>Admin API key</span>
        <input type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.currentTarget.value)} required />
      </label>
      <button type="submit">Use this key</button>
    </form>
  );
}

function AdminConsole() {
  const [overview, reexecute] = useQuery({ query: AdminOverview, requestPolicy: 'cache-and-network' });
  const refresh = () => reexecute({ requestPolicy: 'network-only' });
  if (overview.error) return <ErrorNotice error={overview.error} what="load the admin overview" onRetry={refresh} />;
  if (!overview.data) return <Loading what="model versions" />;
  const info = overview.data.serverInfo;
  return (
    <>
      <section aria-labelledby="server-title" className="server-info">
        <h2 id="server-title">Server</h2>
        <p>
          Marquee {info.version} on {info.database}, backbone {info.backbone}
          {info.provider && ` (${info.provider})`}, {info.indexedPosters.toLocaleString('en')} posters indexed
          {info.indexGraphReady ? ' (HNSW graph)' : ' (searched exactly: no HNSW graph, or not built yet)'}; active model:{' '}
          <strong>{info.activeModelVersion ?? 'none'}</strong>.
        </p>
      </section>
      <RetrainPanel onFinished={refresh} />
      <ModelVersionsTable versions={overview.data.modelVersions} onChanged={refresh} />
      <AddMovieForm />
      <DeleteMovieForm />
    </>
  );
}
