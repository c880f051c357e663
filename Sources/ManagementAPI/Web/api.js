// The management API (openapi.yaml) as the editor uses it: the key kept in sessionStorage and sent as a bearer
// token (RFC 6750; no cookies), RFC 9457 problems turned into APIError, If-Match for changes (RFC 9110 §13).
const KEY = 'callseq.key';

export const session = {
  key: () => sessionStorage.getItem(KEY),
  signIn: (key) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

/// A failed call: the HTTP status, the problem document (`detail`, `errors` with pointers, `users`) and the
/// current ETag a 412 carries.
export class APIError extends Error {
  constructor(status, problem, etag) {
    super(problem && problem.detail ? problem.detail : `the server answered ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.etag = etag;
  }
}

let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

function headers(extra) {
  const h = { Authorization: `Bearer ${session.key() || ''}` };
  return Object.assign(h, extra || {});
}

async function failure(response) {
  let problem = {};
  try { problem = await response.json(); } catch { problem = {}; }
  const error = new APIError(response.status, problem, response.headers.get('ETag'));
  if (response.status === 401) onUnauthorized(error);
  return error;
}

/// `method` on `/api/v1` + `path`; resolves to `{data, etag, location}`.
export async function call(method, path, { body, etag } = {}) {
  const extra = {};
  if (body !== undefined) extra['Content-Type'] = 'application/json';
  if (etag) extra['If-Match'] = etag;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers: headers(extra), cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new APIError(0, { detail: `the server cannot be reached (${e.message})` });
  }
  if (!response.ok) throw await failure(response);
  const data = response.status === 204 ? null : await response.json();
  return { data, etag: response.headers.get('ETag'), location: response.headers.get('Location') };
}

/// Every item of a paged list (at most 20 pages).
export async function all(path, field) {
  let items = [];
  let cursor = null;
  for (let page = 0; page < 20; page++) {
    const query = cursor ? `${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}` : '';
    const { data } = await call('GET', path + query);
    items = items.concat(data[field] || []);
    cursor = data.next;
    if (!cursor) break;
  }
  return items;
}

/// A binary answer (audio, picture) as a blob: URL, fetched with the key (an <audio src> cannot send it); with
/// `body`, POSTed as JSON (the previews of an unsaved sequence).
export async function blobURL(path, body) {
  const options = body === undefined ? { headers: headers(), cache: 'no-store' }
    : { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body: JSON.stringify(body), cache: 'no-store' };
  let response;
  try { response = await fetch(`/api/v1${path}`, options); } catch (e) {
    throw new APIError(0, { detail: `the server cannot be reached (${e.message})` });
  }
  if (!response.ok) throw await failure(response);
  return URL.createObjectURL(await response.blob());
}

/// Uploads `file` as a raw body (PUT, its own media type) with upload progress (XMLHttpRequest: fetch
/// reports none); resolves like `call`.
export function upload(path, file, { etag, onProgress } = {}) {
  const promise = new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `/api/v1${path}`);
    for (const [name, value] of Object.entries(headers(etag ? { 'If-Match': etag } : {}))) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable && onProgress) onProgress(e.loaded, e.total); };
    xhr.onerror = () => reject(new APIError(0, { detail: 'the upload failed: the server cannot be reached' }));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      const tag = xhr.getResponseHeader('ETag');
      if (xhr.status >= 200 && xhr.status < 300) resolve({ data, etag: tag });
      else {
        const error = new APIError(xhr.status, data, tag);
        if (xhr.status === 401) onUnauthorized(error);
        reject(error);
      }
    };
    xhr.send(file);
  });
  uploads.add(promise);
  const done = () => uploads.delete(promise);
  promise.then(done, done);
  return promise;
}

const uploads = new Set();
/// Resolves when every upload in progress has ended (the editor lists recordings after them, so that one
/// uploaded a moment ago is offered).
export const uploadsSettled = () => Promise.allSettled([...uploads]);

/// The ETag of a resource from its revision (ETag = revision, as the API answers).
export const etagOf = (revision) => `"${revision}"`;
