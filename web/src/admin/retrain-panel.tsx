import { useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { ErrorNotice } from '../components/status';
import { graphql } from '../gql';
import { percent } from '../lib/format';

const TrainingJobFields = graphql(`
  fragment TrainingJobFields on TrainingJob {
    id
    status
    progress
    stage
    error
    modelVersionId
    createdAt
    startedAt
    finishedAt
    metrics {
      f1Macro
      hamming
    }
  }
`);
void TrainingJobFields;

const Retrain = graphql(`
  mutation Retrain($input: RetrainInput) {
    retrain(input: $input) {
      ...TrainingJobFields
    }
  }
`);

const WatchTrainingJob = graphql(`
  query WatchTrainingJob($id: ID!) {
    trainingJob(id: $id) {
      ...TrainingJobFields
    }
  }
`);

const JOB_KEY = 'marquee.trainingJob';
const POLL_MS = 1000; // the API's agreed polling interval for jobs
const isRunning = (status: string | undefined) => status === 'QUEUED' || status === 'RUNNING';

/** Start a retrain and follow it to the end (polling `trainingJob`); survives a page reload. */
export function RetrainPanel({ onFinished }: { onFinished: () => void }) {
  const [epochs, setEpochs] = useState('');
  const [activate, setActivate] = useState(true);
  const [jobId, setJobId] = useState<string | null>(() => sessionStorage.getItem(JOB_KEY));
  const [started, retrain] = useMutation(Retrain);
  const [watched, poll] = useQuery({ query: WatchTrainingJob, variables: { id: jobId ?? '' }, pause: !jobId, requestPolicy: 'network-only' });
  const job = watched.data?.trainingJob ?? (started.data?.retrain.id === jobId ? started.data?.retrain : undefined);
  const running = isRunning(job?.status);

  useEffect(() => {
    if (!jobId || !running) return;
    const t = setTimeout(() => poll({ requestPolicy: 'network-only' }), POLL_MS);
    return () => clearTimeout(t);
  }, [jobId, running, watched.data, poll]);

  // Once a job ends, the version list and the active model may have changed.
  const finishedStatus = job && !running ? job.status : null;
  useEffect(() => {
    if (finishedStatus) onFinished();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [finishedStatus]);

  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    const n = Number.parseInt(epochs, 10);
    const r = await retrain({ input: { activate, ...(Number.isFinite(n) ? { epochs: n } : {}) } });
    if (r.data) {
      sessionStorage.setItem(JOB_KEY, r.data.retrain.id);
      setJobId(r.data.retrain.id);
    }
  };

  return (
    <section aria-labelledby="retrain-title" className="retrain">
      <h2 id="retrain-title">Retrain the genre model</h2>
      <form onSubmit={(e) => void start(e)} className="retrain-form">
        <label>
          <span>Epochs</span>
          <input type="number" min={1} max={500} placeholder="default" value={epochs} onChange={(e) => setEpochs(e.currentTarget.value)} />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={activate} onChange={(e) => setActivate(e.currentTarget.checked)} /> activate when it succeeds
        </label>
        <button type="submit" disabled={started.fetching || running}>
          {running ? 'Training…' : 'Start retraining'}
        </button>
      </form>
      {started.error && <ErrorNotice error={started.error} what="start retraining" />}
      {watched.error && <ErrorNotice error={watched.error} what="follow the training job" onRetry={() => poll({ requestPolicy: 'network-only' })} />}
      {job && (
        <div className={`job job-${job.status.toLowerCase()}`} aria-live="polite">
          <p>
            Job {job.id}: <strong className="job-status">{job.status}</strong>
            {job.stage && ` · ${job.stage}`}
          </p>
          <progress max={1} value={job.progress} aria-label="Training progress">
            {percent(job.progress)}
          </progress>
          <span className="job-progress"> {percent(job.progress)}</span>
          {job.status === 'SUCCEEDED' && job.metrics && (
            <p>
              New version {job.modelVersionId}: macro F1 {job.metrics.f1Macro.toFixed(3)}, Hamming loss {job.metrics.hamming.toFixed(3)}.
            </p>
          )}
          {job.status === 'FAILED' && <p className="error">Training failed: {job.error}. The active model is unchanged.</p>}
          {job.status === 'INTERRUPTED' && <p className="error">Training was interrupted: {job.error}. The active model is unchanged.</p>}
        </div>
      )}
    </section>
  );
}
