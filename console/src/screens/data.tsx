import { useEffect, useRef, useState } from 'preact/hooks';
import { useConsole } from '../context.js';
import type { ImportJob } from '../lib/api.js';
import { errorFromResponse } from '../../../src/client/errors.js';
import { formatNumber } from '../lib/format.js';
import { ErrorPanel } from '../components/status.js';

const enc = encodeURIComponent;
const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;
type Format = keyof typeof CONTENT_TYPES;

const formatOf = (name: string): Format => (/\.(nd)?jsonl?$/i.test(name) || /\.ndjson$/i.test(name) ? 'ndjson' : 'csv');

/** Saves a response body as a file, reading it as it streams so the page can show how much has arrived. */
async function download(response: Response, name: string, onBytes: (bytes: number) => void): Promise<void> {
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
    onBytes(bytes);
  }
  const url = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: response.headers.get('content-type') ?? '' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function fileName(response: Response, fallback: string): string {
  const match = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '');
  return match?.[1] ?? fallback;
}

export function DataTransfer() {
  const { canWrite } = useConsole();
  return (
    <main id="main">
      <h1>Import &amp; export</h1>
      <div class="grid">
        {canWrite ? (
          <Import />
        ) : (
          <section class="panel">
            <h2>Import</h2>
            <p class="notice" role="note">
              Importing needs a token with the <code>customers:write</code> scope; this one can only read.
            </p>
          </section>
        )}
        <Export />
      </div>
    </main>
  );
}

function Import() {
  const { api, organization } = useConsole();
  const [file, setFile] = useState<File>();
  const [format, setFormat] = useState<Format>('csv');
  const [uploaded, setUploaded] = useState<number>();
  const [job, setJob] = useState<ImportJob>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const poll = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(poll.current), []);

  const follow = (id: string) => {
    poll.current = setTimeout(() => {
      api.importJob(organization.id, id).then(
        (next) => {
          setJob(next);
          if (next.status === 'running') follow(id);
          else setBusy(false);
        },
        (caught: unknown) => (setError(caught), setBusy(false)),
      );
    }, 400);
  };

  // XMLHttpRequest, not fetch: only it reports upload progress.
  const upload = (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setJob(undefined);
    setUploaded(0);
    const { url, authorization } = api.rawRequest(`/organizations/${enc(organization.id)}/imports`, { format });
    const request = new XMLHttpRequest();
    request.open('POST', url);
    request.setRequestHeader('authorization', authorization);
    request.setRequestHeader('content-type', CONTENT_TYPES[format]);
    request.setRequestHeader('accept', 'application/json');
    request.upload.onprogress = (progress) => setUploaded(progress.loaded);
    request.onerror = () => (setError(new Error('The upload failed: the server did not answer.')), setBusy(false));
    request.onload = () => {
      const response = new Response(request.responseText, {
        status: request.status,
        headers: { 'content-type': request.getResponseHeader('content-type') ?? '' },
      });
      if (request.status >= 200 && request.status < 300) {
        const started = JSON.parse(request.responseText) as ImportJob;
        setUploaded(file.size);
        setJob(started);
        if (started.status === 'running') follow(started.id);
        else setBusy(false);
      } else {
        void errorFromResponse(response, undefined).then((caught) => (setError(caught), setBusy(false)));
      }
    };
    request.send(file);
  };

  const downloadRejects = async () => {
    if (!job) return;
    const { url, authorization } = api.rawRequest(
      `/organizations/${enc(organization.id)}/imports/${enc(job.id)}/rejects`,
    );
    const response = await fetch(url, { headers: { authorization } });
    if (!response.ok) return setError(await errorFromResponse(response, undefined));
    await download(response, `rejects-${job.id}.ndjson`, () => undefined);
  };

  const elapsed = job
    ? ((job.completedAt ? Date.parse(job.completedAt) : Date.now()) - Date.parse(job.startedAt)) / 1000
    : 0;
  const rate = job && elapsed > 0 ? Math.round(job.rowsRead / elapsed) : undefined;

  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import customers</h2>
      <form class="form-actions" onSubmit={upload}>
        <label>
          CSV or NDJSON file
          <input
            type="file"
            accept=".csv,.ndjson,.jsonl,text/csv,application/x-ndjson"
            onChange={(event) => {
              const chosen = (event.target as HTMLInputElement).files?.[0];
              setFile(chosen);
              if (chosen) setFormat(formatOf(chosen.name));
            }}
          />
        </label>
        <label>
          Format
          <select value={format} onChange={(e) => setFormat((e.target as HTMLSelectElement).value as Format)}>
            <option value="csv">CSV</option>
            <option value="ndjson">NDJSON</option>
          </select>
        </label>
        <button type="submit" class="primary" disabled={!file || busy}>
          Import
        </button>
      </form>
      <p class="help">
        The same columns as <code>customers-api export</code>: firstName, lastName, email, phoneNumber, … and
        metadata.KEY.
      </p>
      {uploaded !== undefined && file && (
        <label>
          Upload
          <progress max={file.size || 1} value={uploaded} />
        </label>
      )}
      {job && (
        <div class="import-job" aria-live="polite">
          <p role="status" data-testid="import-status">
            {job.status === 'running'
              ? 'Importing…'
              : job.status === 'completed'
                ? 'Import complete.'
                : 'Import failed.'}
          </p>
          <dl class="stats">
            <div>
              <dt>Rows read</dt>
              <dd data-testid="rows-read">{formatNumber(job.rowsRead)}</dd>
            </div>
            <div>
              <dt>Imported</dt>
              <dd data-testid="rows-imported">{formatNumber(job.rowsImported)}</dd>
            </div>
            <div>
              <dt>Rejected</dt>
              <dd data-testid="rows-rejected">{formatNumber(job.rowsRejected)}</dd>
            </div>
            <div>
              <dt>Rows/s</dt>
              <dd>{formatNumber(rate)}</dd>
            </div>
          </dl>
          {job.rejects.length > 0 && (
            <>
              <table class="data-table" aria-label="Rejected rows">
                <thead>
                  <tr>
                    <th scope="col" class="number">
                      Line
                    </th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {job.rejects.slice(0, 100).map((reject) => (
                    <tr key={reject.line}>
                      <td class="number">{reject.line}</td>
                      <td>{reject.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="button" onClick={() => void downloadRejects()}>
                Download all rejects
              </button>
            </>
          )}
        </div>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
    </section>
  );
}

function Export() {
  const { api, organization } = useConsole();
  const [bytes, setBytes] = useState<number>();
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async (format: Format) => {
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    setBytes(0);
    try {
      const { url, authorization } = api.rawRequest(`/organizations/${enc(organization.id)}/exports`, { format });
      const response = await fetch(url, { headers: { authorization } });
      if (!response.ok) throw await errorFromResponse(response, undefined);
      const name = fileName(response, `customers.${format}`);
      await download(response, name, setBytes);
      setDone(name);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="export-title">
      <h2 id="export-title">Export customers</h2>
      <p>Every customer of {organization.name}, streamed as it is read.</p>
      <div class="form-actions">
        <button type="button" disabled={busy} onClick={() => void run('csv')}>
          Export CSV
        </button>
        <button type="button" disabled={busy} onClick={() => void run('ndjson')}>
          Export NDJSON
        </button>
      </div>
      {bytes !== undefined && (
        <p role="status">
          {done ? `Saved ${done} (` : 'Downloading… ('}
          {formatNumber(Math.round(bytes / 1024))} KB)
        </p>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
    </section>
  );
}
