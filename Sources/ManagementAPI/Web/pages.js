// The other pages: Recordings (upload with progress, play, details, delete), IVRs (options: digit → sequence,
// hang up, repeat, another IVR), Numbers (route to an IVR), Texts (the SMS ledger), and for resellers Packages
// (the "Sequence" feature switch) and Clients; the operator's Accounts.
import { call, all, blobURL, upload, etagOf } from './api.js';
import { h, vh, field, setProblem, say, confirmDelete, problemText, alertBox, phone } from './dom.js';
import { seconds } from './dtmf.js';
import { state, acct, show, go, can, chooseAccount } from './app.js';

const MAX_UPLOAD = 20 * 1024 * 1024;

/// A recording name from a file name: its stem, without characters names may not hold.
function recordingName(file) {
  let name = file.name.replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[\u0000-\u001f\u007f/]/g, '').trim().slice(0, 100);
  if (!name || name === 'none' || name === 'default') name = `recording ${name}`.trim();
  return name;
}

export async function recordingsPage() {
  const recordings = await all(`${acct()}/recordings`, 'recordings');
  const input = h('input', { type: 'file', accept: 'audio/*,.wav,.mp3,.flac,.ogg,.oga,.aif,.aiff' });
  const progress = h('progress', { max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const progressText = h('p', { class: 'meta', 'aria-live': 'polite' });
  const outcome = h('div', {});
  const audio = h('div', {});
  const details = h('div', {});
  const list = h('ul', { class: 'plain', 'aria-label': 'Recordings' });

  async function send(file, etag) {
    const name = recordingName(file);
    outcome.replaceChildren();
    setProblem(input, null);
    if (file.size > MAX_UPLOAD) { setProblem(input, `${file.name} is ${Math.round(file.size / 1048576)} MiB; at most 20 MiB`); input.focus(); return; }
    progress.hidden = false;
    progress.value = 0;
    progressText.textContent = `Uploading ${name}…`;
    try {
      const { data } = await upload(`${acct()}/recordings/${encodeURIComponent(name)}`, file, {
        etag,
        onProgress: (loaded, total) => { progress.value = Math.round((loaded / total) * 100); },
      });
      progress.value = 100;
      progressText.textContent = `Uploaded ${data.name}: ${seconds(data.durationMs)}, ${data.contentType}.`;
      say(`Uploaded ${data.name}.`);
      await refresh();
    } catch (error) {
      progress.hidden = true;
      progressText.textContent = '';
      if (error.status === 428 || error.status === 412) {
        const replace = h('button', { type: 'button', class: 'secondary', text: `Replace ${name}` });
        replace.addEventListener('click', async () => {
          const { etag: current } = await call('GET', `${acct()}/recordings/${encodeURIComponent(name)}`);
          await send(file, current);
        });
        outcome.replaceChildren(alertBox(`A recording named ${name} exists already.`, h('div', { class: 'row' }, replace)));
        replace.focus();
      } else {
        setProblem(input, `${file.name} was not uploaded: ${problemText(error)}`);
        input.focus();
      }
    }
  }

  input.addEventListener('change', () => { if (input.files && input.files[0]) send(input.files[0]); });

  async function refresh() {
    const fresh = await all(`${acct()}/recordings`, 'recordings');
    list.replaceChildren(...fresh.map(item));
    empty.hidden = fresh.length > 0;
  }

  function item(r) {
    const play = h('button', { type: 'button', class: 'secondary', text: 'Play', 'aria-label': `Play ${r.name}` });
    play.addEventListener('click', async () => {
      try {
        const url = await blobURL(`${acct()}/recordings/${encodeURIComponent(r.name)}/audio`);
        const old = audio.querySelector('audio');
        if (old) URL.revokeObjectURL(old.src);
        const player = h('audio', { controls: true, src: url, 'aria-label': `Audio of ${r.name}` });
        audio.replaceChildren(h('h2', { text: `Playing ${r.name}` }), player);
        player.play().catch(() => {});
        player.focus();
      } catch (error) { say(`Cannot play ${r.name}: ${problemText(error)}`); }
    });
    const info = h('button', { type: 'button', class: 'secondary', text: 'Details', 'aria-label': `Details of ${r.name}` });
    info.addEventListener('click', () => {
      const rows = [['Name', r.name], ['Duration', seconds(r.durationMs)], ['Uploaded as', r.contentType],
        ['Original size', `${r.originalBytes} bytes`], ['For calls', `${r.convertedBytes} bytes`], ['Revision', String(r.revision)]];
      for (const [k, v] of Object.entries(r.metadata || {})) rows.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
      const heading = h('h2', { tabindex: '-1', text: `Details of ${r.name}` });
      details.replaceChildren(heading, h('dl', {}, rows.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])));
      heading.focus();
    });
    const del = h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${r.name}` });
    const li = h('li', {}, h('span', { class: 'name', text: r.name }), h('span', { class: 'meta', text: seconds(r.durationMs) }), play, info, del);
    del.addEventListener('click', async () => {
      if (!(await confirmDelete(`Delete the recording “${r.name}”?`))) { del.focus(); return; }
      try {
        await call('DELETE', `${acct()}/recordings/${encodeURIComponent(r.name)}`, { etag: etagOf(r.revision) });
        say(`Deleted ${r.name}.`);
        await refresh();
        input.focus();
      } catch (error) {
        const text = `${r.name} was not deleted: ${problemText(error)}`;
        li.append(alertBox(text));
        say(text);
        del.focus();
      }
    });
    return li;
  }

  const empty = h('p', { class: 'meta', text: 'No recordings yet.', hidden: recordings.length > 0 });
  list.replaceChildren(...recordings.map(item));
  show('Recordings',
    h('p', { text: 'Upload WAV, MP3, FLAC, Ogg or AIFF files (at most 20 MiB); each is converted once for calls (8 kHz). The file name, without its extension, becomes the recording’s name.' }),
    field('Upload recording', input), progress, progressText, outcome,
    h('h2', { text: 'Your recordings' }), empty, list, audio, details);
}

// MARK: IVRs

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

export async function ivrsPage() {
  const ivrs = await all(`${acct()}/ivrs`, 'ivrs');
  // Most accounts have one IVR: the page is its editor (with none yet, the form of the first).
  if (ivrs.length <= 1) { await ivrPage(ivrs.length ? ivrs[0].id : null, true); return; }
  const list = h('ul', { class: 'plain', 'aria-label': 'IVRs' });
  for (const ivr of ivrs) {
    const del = h('button', { type: 'button', class: 'danger', text: 'Delete', 'aria-label': `Delete ${ivr.name}` });
    const li = h('li', {}, h('span', { class: 'name' }, h('a', { href: `#/ivrs/${encodeURIComponent(ivr.id)}`, text: ivr.name })), del);
    del.addEventListener('click', async () => {
      if (!(await confirmDelete(`Delete the IVR “${ivr.name}”?`))) { del.focus(); return; }
      try {
        await call('DELETE', `${acct()}/ivrs/${encodeURIComponent(ivr.id)}`, { etag: etagOf(ivr.revision) });
        say(`Deleted ${ivr.name}.`);
        await ivrsPage();
      } catch (error) { li.append(alertBox(`${ivr.name} was not deleted: ${problemText(error)}`)); del.focus(); }
    });
    list.append(li);
  }
  show('IVRs',
    h('p', { text: 'An IVR plays its prompt and waits for a digit; each digit runs a sequence, hangs up, repeats the menu or goes to another IVR.' }),
    h('div', { class: 'row' }, h('button', { type: 'button', text: 'Add IVR', on: { click: () => go('#/ivrs/new') } })),
    ivrs.length ? list : h('p', { class: 'meta', text: 'No IVRs yet.' }));
}

/// The editor of IVR `id` (null: a new one); `only`: the account's one IVR, shown as the IVRs page.
export async function ivrPage(id, only = false) {
  const [recordings, sequences, ivrs] = await Promise.all([
    all(`${acct()}/recordings`, 'recordings'),
    can('sequences') ? all(`${acct()}/sequences`, 'sequences') : Promise.resolve([]),
    all(`${acct()}/ivrs`, 'ivrs'),
  ]);
  let ivr = { name: '', prompt: 'default', timeoutSeconds: 5, attempts: 3, options: {} };
  let etag = null;
  if (id) ({ data: ivr, etag } = await call('GET', `${acct()}/ivrs/${encodeURIComponent(id)}`));
  const problems = h('div', {});
  const name = h('input', { type: 'text', value: ivr.name, maxlength: '100', autocomplete: 'off' });
  const promptChoice = ivr.prompt || 'none';
  const names = recordings.map((r) => r.name);
  const prompt = h('select', {},
    h('option', { value: 'none', text: 'No recording', selected: promptChoice === 'none' }),
    h('option', { value: 'default', text: 'System default', selected: promptChoice === 'default' }),
    names.map((n) => h('option', { value: n, text: n, selected: n === promptChoice })),
    ['none', 'default', ...names].includes(promptChoice) ? null : h('option', { value: promptChoice, text: `${promptChoice} (missing)`, selected: true }));
  const timeout = h('input', { type: 'number', min: '1', max: '60', value: String(ivr.timeoutSeconds ?? 5) });
  const attempts = h('input', { type: 'number', min: '1', max: '10', value: String(ivr.attempts ?? 3) });
  const selects = {};
  const optionFields = KEYS.map((key) => {
    const current = (ivr.options || {})[key] || {};
    const value = current.sequence !== undefined ? `sequence:${current.sequence}` : current.ivr !== undefined ? `ivr:${current.ivr}`
      : current.hangup ? 'hangup' : current.repeat ? 'repeat' : '';
    const seqNames = sequences.map((s) => s.name);
    if (current.sequence !== undefined && !seqNames.includes(current.sequence)) seqNames.push(current.sequence);
    const ivrNames = ivrs.map((i) => i.name).filter((n) => n !== ivr.name);
    if (current.ivr !== undefined && !ivrNames.includes(current.ivr)) ivrNames.push(current.ivr);
    const select = h('select', {},
      h('option', { value: '', text: 'Not used', selected: value === '' }),
      h('option', { value: 'hangup', text: 'Hang up', selected: value === 'hangup' }),
      h('option', { value: 'repeat', text: 'Repeat the menu', selected: value === 'repeat' }),
      seqNames.length ? h('optgroup', { label: 'Sequences' }, seqNames.map((n) => h('option', { value: `sequence:${n}`, text: n, selected: value === `sequence:${n}` }))) : null,
      ivrNames.length ? h('optgroup', { label: 'Other IVRs' }, ivrNames.map((n) => h('option', { value: `ivr:${n}`, text: n, selected: value === `ivr:${n}` }))) : null);
    selects[key] = select;
    return field(`Option ${key}`, select);
  });
  const save = h('button', { type: 'submit', text: 'Save' });
  const form = h('form', { novalidate: true }, problems,
    field('Name', name), field('Prompt', prompt, 'Played before the caller chooses.'),
    field('Seconds to wait for a digit', timeout), field('Plays of the menu', attempts),
    h('h2', { text: 'Options' }),
    h('p', { class: 'help', text: can('sequences') ? 'What each digit does. Sequences are chosen here.' : 'What each digit does.' }),
    h('div', { class: 'options' }, optionFields),
    h('div', { class: 'row' }, save, only ? null : h('a', { href: '#/ivrs', text: 'Back to the list' })));
  const controls = () => ({ name, prompt, timeoutSeconds: timeout, attempts });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const options = {};
    for (const key of KEYS) {
      const v = selects[key].value;
      if (v === 'hangup') options[key] = { hangup: true };
      else if (v === 'repeat') options[key] = { repeat: true };
      else if (v.startsWith('sequence:')) options[key] = { sequence: v.slice(9) };
      else if (v.startsWith('ivr:')) options[key] = { ivr: v.slice(4) };
    }
    const body = { name: name.value, prompt: prompt.value, timeoutSeconds: Number(timeout.value), attempts: Number(attempts.value), options };
    for (const c of [name, prompt, timeout, attempts, ...Object.values(selects)]) setProblem(c, null);
    problems.replaceChildren();
    try {
      const answer = id ? await call('PUT', `${acct()}/ivrs/${encodeURIComponent(id)}`, { body, etag })
        : await call('POST', `${acct()}/ivrs`, { body });
      etag = answer.etag;
      if (!id) {
        const location = answer.location || '';
        id = decodeURIComponent(location.slice(location.lastIndexOf('/') + 1));
        if (!only) history.replaceState(null, '', `#/ivrs/${encodeURIComponent(id)}`);
      }
      ivr = answer.data;
      document.querySelector('h1').textContent = `Edit IVR: ${ivr.name}`;
      document.title = `Edit IVR: ${ivr.name} · CallSequence`;
      say(`Saved ${body.name}.`);
    } catch (error) {
      if (error.status === 422 && Array.isArray(error.problem.errors)) {
        let first = null;
        const items = error.problem.errors.map(({ pointer, detail }) => {
          const parts = (pointer || '').split('/');
          const control = parts[1] === 'options' ? selects[parts[2]] : controls()[parts[1]];
          if (control) { setProblem(control, detail); first = first || control; }
          return h('li', { text: `${pointer}: ${detail}` });
        });
        problems.replaceChildren(alertBox('Not saved:', h('ul', {}, items)));
        if (first) first.focus();
      } else if (error.status === 412) {
        problems.replaceChildren(alertBox('Not saved: this IVR was changed elsewhere since you opened it. Reload the page to see the new version.'));
        save.focus();
      } else {
        problems.replaceChildren(alertBox(`Not saved: ${problemText(error)}`));
        save.focus();
      }
      say('Not saved.');
    }
  });
  const actions = h('div', { class: 'row' });
  if (only && id) actions.append(h('button', { type: 'button', class: 'secondary', text: 'Add IVR', on: { click: () => go('#/ivrs/new') } }));
  if (id) {
    const del = h('button', { type: 'button', class: 'danger', text: 'Delete IVR', 'aria-label': `Delete IVR ${ivr.name}` });
    del.addEventListener('click', async () => {
      if (!(await confirmDelete(`Delete the IVR “${ivr.name}”? Numbers routed to it must be changed first.`))) { del.focus(); return; }
      try {
        await call('DELETE', `${acct()}/ivrs/${encodeURIComponent(id)}`, { etag });
        say(`Deleted ${ivr.name}.`);
        go('#/ivrs');
      } catch (error) { problems.replaceChildren(alertBox(`${ivr.name} was not deleted: ${problemText(error)}`)); del.focus(); }
    });
    actions.append(del);
  }
  show(id ? `Edit IVR: ${ivr.name}` : 'New IVR', form, actions);
}

// MARK: Numbers

export async function numbersPage() {
  const [numbers, ivrs] = await Promise.all([all(`${acct()}/numbers`, 'numbers'), all(`${acct()}/ivrs`, 'ivrs')]);
  const list = h('ul', { class: 'plain', 'aria-label': 'Numbers' });
  for (const n of numbers) {
    const current = n.route && n.route.ivr !== undefined ? `ivr:${n.route.ivr}` : 'hangup';
    const names = ivrs.map((i) => i.name);
    if (current.startsWith('ivr:') && !names.includes(n.route.ivr)) names.push(n.route.ivr);
    // A number answers with an IVR or hangs up: sequences run only as IVR options.
    const select = h('select', {},
      h('option', { value: 'hangup', text: 'Hang up', selected: current === 'hangup' }),
      names.map((name) => h('option', { value: `ivr:${name}`, text: name, selected: current === `ivr:${name}` })));
    select.addEventListener('change', async () => {
      const route = select.value === 'hangup' ? { hangup: true } : { ivr: select.value.slice(4) };
      const body = { route, sms: Boolean(n.sms) };
      if (n.dtmf) body.dtmf = n.dtmf;
      if (Number.isInteger(n.answerAfterMs)) body.answerAfterMs = n.answerAfterMs;
      setProblem(select, null);
      try {
        // Numbers carry no revision in their listing: the change applies to whatever is stored (If-Match: *).
        await call('PUT', `${acct()}/numbers/${n.number}`, { body, etag: '*' });
        say(`${phone(n.number)} now ${route.hangup ? 'hangs up' : `answers with ${route.ivr}`}.`);
      } catch (error) {
        const detail = error.status === 422 && error.problem.errors ? error.problem.errors.map((e) => e.detail).join('; ') : problemText(error);
        setProblem(select, `Not changed: ${detail}`);
        select.focus();
      }
    });
    list.append(h('li', {}, h('span', { class: 'name', text: `${phone(n.number)}${n.sms ? ' · SMS' : ''}` }),
      h('div', {}, field(`Route for ${phone(n.number)}`, select))));
  }
  show('Numbers',
    h('p', { text: 'Each number answers with an IVR or hangs up. Sequences run from IVR options.' }),
    numbers.length ? list : h('p', { class: 'meta', text: 'No numbers yet: numbers are assigned by your provider.' }));
}

// MARK: Texts

export async function textsPage() {
  const { data } = await call('GET', `${acct()}/sms?limit=200`);
  const texts = data.texts || [];
  const columns = [];
  for (const t of texts.slice(0, 50)) for (const k of Object.keys(t)) if (!columns.includes(k) && columns.length < 10) columns.push(k);
  const cell = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const table = h('div', { class: 'table' }, h('table', {},
    h('caption', { class: 'meta', text: `${texts.length} text${texts.length === 1 ? '' : 's'}, newest first` }),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, texts.map((t) => h('tr', {}, columns.map((c) => h('td', { text: cell(t[c]) })))))));
  show('Texts', h('p', { text: 'The text messages your sequences sent (the SMS ledger).' }),
    texts.length ? table : h('p', { class: 'meta', text: 'No texts sent yet.' }));
}

// MARK: Reseller: packages and clients

export async function packagesPage() {
  const packages = await all(`${acct()}/packages`, 'packages');
  const list = h('ul', { class: 'plain', 'aria-label': 'Packages' });
  const put = async (name, sequences) => {
    await call('PUT', `${acct()}/packages/${encodeURIComponent(name)}`, { body: { sequences } });
    say(`${name}: sequences ${sequences ? 'on' : 'off'}.`);
  };
  for (const p of packages) {
    const box = h('input', { type: 'checkbox', checked: Boolean(p.sequences) });
    box.addEventListener('change', async () => {
      try { await put(p.name, box.checked); } catch (error) { box.checked = !box.checked; say(`Not changed: ${problemText(error)}`); }
    });
    list.append(h('li', {}, h('fieldset', {}, h('legend', { text: p.name }),
      h('label', { class: 'inline' }, box, 'Sequence'))));
  }
  const name = h('input', { type: 'text', maxlength: '200', autocomplete: 'off' });
  const seq = h('input', { type: 'checkbox' });
  // The new package's form only when asked for: its "Sequence" switch would otherwise share the label of the
  // packages' own.
  const form = h('form', { novalidate: true, id: 'new-package' }, field('Package name', name),
    h('label', { class: 'inline' }, seq, 'Sequence'),
    h('div', { class: 'row' }, h('button', { type: 'submit', text: 'Add package' })));
  const toggle = h('button', { type: 'button', class: 'secondary', text: 'New package', 'aria-expanded': 'false', 'aria-controls': 'new-package' });
  const slot = h('div', {});
  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') === 'true';
    toggle.setAttribute('aria-expanded', open ? 'false' : 'true');
    if (open) slot.replaceChildren(); else { slot.replaceChildren(form); name.focus(); }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setProblem(name, null);
    if (!name.value.trim()) { setProblem(name, 'the package needs a name'); name.focus(); return; }
    try { await put(name.value.trim(), seq.checked); await packagesPage(); } catch (error) { setProblem(name, problemText(error)); name.focus(); }
  });
  show('Packages', h('p', { text: 'What your clients on each package may do. “Sequence” lets them build sequences; clients never send SMS.' }),
    packages.length ? list : h('p', { class: 'meta', text: 'No packages yet.' }), h('div', { class: 'row' }, toggle), slot);
}

export async function clientsPage() {
  const [accounts, packages] = await Promise.all([all('/accounts', 'accounts'), all(`${acct()}/packages`, 'packages')]);
  const clients = accounts.filter((a) => a.kind === 'client');
  const keyArea = h('div', {});
  const list = h('ul', { class: 'plain', 'aria-label': 'Clients' });
  for (const c of clients) {
    const key = h('button', { type: 'button', class: 'secondary', text: 'New key', 'aria-label': `New key for ${c.name}` });
    key.addEventListener('click', async () => {
      try {
        const { data } = await call('POST', `/accounts/${encodeURIComponent(c.id)}/keys`, { body: { label: 'from the editor' } });
        const out = h('input', { type: 'text', readonly: true, value: data.key });
        keyArea.replaceChildren(alertBox(`A key for ${c.name}; it is shown this once:`, field('New key', out)));
        out.focus();
        out.select();
      } catch (error) { say(`No key: ${problemText(error)}`); }
    });
    list.append(h('li', {}, h('span', { class: 'name', text: c.name }),
      h('span', { class: 'meta', text: `${c.package ? `package ${c.package}` : 'no package'}${c.capabilities && c.capabilities.sequences ? ' · sequences' : ''}` }), key));
  }
  const name = h('input', { type: 'text', maxlength: '200', autocomplete: 'off' });
  const pkg = h('select', {}, packages.map((p) => h('option', { value: p.name, text: p.name })));
  const form = h('form', { novalidate: true }, h('h2', { text: 'New client' }), field('Client name', name),
    packages.length ? field('Package', pkg) : h('p', { class: 'meta', text: 'Add a package first (Packages page).' }),
    h('div', { class: 'row' }, h('button', { type: 'submit', text: 'Add client', disabled: packages.length === 0 })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setProblem(name, null);
    try {
      await call('POST', '/accounts', { body: { name: name.value.trim(), kind: 'client', parent: state.account.id, package: pkg.value } });
      say(`Added ${name.value.trim()}.`);
      await clientsPage();
    } catch (error) {
      const detail = error.problem && Array.isArray(error.problem.errors) ? error.problem.errors.map((e) => e.detail).join('; ') : problemText(error);
      setProblem(name, detail);
      name.focus();
    }
  });
  show('Clients', h('p', { text: 'Your clients’ accounts. Each sees the features of its package.' }),
    clients.length ? list : h('p', { class: 'meta', text: 'No clients yet.' }), keyArea, form);
}

export async function accountsPage() {
  if (!state.me || !state.me.operator) { go('#/sequences'); return; }
  const accounts = await all('/accounts', 'accounts');
  const list = h('ul', { class: 'plain', 'aria-label': 'Accounts' });
  for (const a of accounts) {
    list.append(h('li', {}, h('span', { class: 'name', text: a.name }), h('span', { class: 'meta', text: `${a.kind} · ${a.id}` }),
      h('button', { type: 'button', class: 'secondary', text: 'Manage', 'aria-label': `Manage ${a.name}`, on: { click: () => chooseAccount(a) } })));
  }
  show('Accounts', h('p', { text: 'The operator key sees every account: choose the one to manage.' }),
    accounts.length ? list : h('p', { class: 'meta', text: 'No accounts yet.' }));
}
